"""Name a flow run after what it does once that is known (`deploy-woosoo-20261125185802`)."""

from __future__ import annotations

import contextlib
import os

__all__ = ["rename_run"]


def rename_run(name: str, tags: list[str] | None = None) -> None:
    """Best effort: not at all when the API is gone (its client would retry for a minute).
    `tags` are added to the run's own."""
    from prefect.client.orchestration import get_client
    from prefect.runtime import flow_run

    from deployflow.backends.prefect_server import api_answers

    run_id, url = flow_run.get_id(), os.environ.get("PREFECT_API_URL")
    if not run_id or (url and not api_answers(url)):
        return
    with contextlib.suppress(Exception), get_client(sync_client=True) as client:
        if tags:
            client.update_flow_run(run_id, name=name, tags=[*flow_run.get_tags(), *tags])
        else:
            client.update_flow_run(run_id, name=name)
