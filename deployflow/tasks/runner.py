"""Each stage becomes a Prefect task: named after the stage, never cached (side effects),
its log lines and any error it raises redacted before Prefect records them."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any, TypeVar

from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.tasks import exponential_backoff
from prefect.utilities.annotations import quote

from deployflow.backends.prefect_server import api_answers
from deployflow.core.redact import Redactor
from deployflow.errors import DeployflowError

__all__ = ["PrefectRunner", "redacted"]

T = TypeVar("T")


def redacted(fn: Callable[..., T], redact: Redactor) -> Callable[..., T]:
    """`fn`, whose exceptions leave with their messages redacted and their chain cut, so no
    secret reaches Prefect's task-run state or its logged traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        try:
            return fn(*args, **kwargs)
        except DeployflowError as exc:
            clean = type(exc).__new__(type(exc))
            clean.args = (redact(str(exc)),)
            clean.__dict__.update(exc.__dict__)
            raise clean from None
        except Exception as exc:
            raise DeployflowError(
                f"unexpected {type(exc).__name__}: {redact(str(exc))}; a deployflow bug, "
                "please report it"
            ) from None

    return wrapper


class PrefectRunner:
    def __init__(self, redact: Redactor) -> None:
        from prefect.runtime import flow_run

        self._redact = redact
        self.run_id: str | None = str(flow_run.get_id() or "") or None

    def call(self, name: str, fn: Callable[..., T], *args: Any, retries: int = 0) -> T:
        options: dict[str, Any] = {"name": name, "cache_policy": NO_CACHE}
        if retries:  # network-facing stages: exponential back-off with jitter
            delays = exponential_backoff(backoff_factor=1)(retries)
            options.update(retries=retries, retry_delay_seconds=delays, retry_jitter_factor=0.5)
        # quoted: Prefect neither traverses nor resolves them (a DeployRun lets a stage read
        # only the fields it declares)
        return task(**options)(redacted(fn, self._redact))(*(quote(a) for a in args))

    def each(
        self, name: str, fn: Callable[[str], T], items: list[str], concurrent: bool
    ) -> list[T]:
        stage = task(name=name, task_run_name=f"{name}-{{item}}", cache_policy=NO_CACHE)(
            redacted(fn, self._redact)
        )
        if not concurrent:
            return [stage(item) for item in items]
        futures = [stage.submit(item) for item in items]
        return [f.result() for f in futures]

    def log(self, message: str) -> None:
        get_run_logger().info(self._redact(message))

    def publish(self, key: str, markdown: str, description: str) -> None:
        """The report as the run's artifact; at once an error when the API is gone (Prefect's
        client would retry for a minute)."""
        url = os.environ.get("PREFECT_API_URL")
        if url and not api_answers(url):
            raise DeployflowError("the Prefect API does not answer; the report is in its file")
        create_markdown_artifact(markdown=self._redact(markdown), key=key, description=description)
