"""An operation called from a flow: its exceptions redacted (`redacted`), and its outcome
settled even when the Prefect API is gone. When the API does not answer as the operation ends
(the server was killed mid-deploy), the outcome is kept for the API (`runmarks`, given to it
when it answers again), and whoever runs the flow in this process hears it at once (a
"settled offline" progress event with the summary), rather than after Prefect's client has
retried its final state for minutes."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any, TypeVar

from deployflow.core.redact import Redactor
from deployflow.ops.progress import Progress, publish
from deployflow.tasks.runner import redacted

__all__ = ["operation"]

T = TypeVar("T")


def operation(fn: Callable[..., T], redact: Redactor) -> Callable[..., T]:
    clean = redacted(fn, redact)

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        try:
            result = clean(*args, **kwargs)
        except Exception as exc:
            _settle("FAILED", str(exc), getattr(exc, "summary", None))
            raise
        _settle("COMPLETED", "", result if isinstance(result, dict) else None)
        return result

    return wrapper


def _settle(state: str, message: str, summary: dict[str, Any] | None) -> None:
    from prefect.runtime import flow_run

    from deployflow.backends.prefect_server import api_answers
    from deployflow.backends.runmarks import save_mark

    url = os.environ.get("PREFECT_API_URL")
    if not url or api_answers(url):
        return
    run_id = flow_run.get_id()
    if run_id:
        save_mark(str(run_id), state, message)
    publish(Progress("settled offline", text=message, summary=summary))
