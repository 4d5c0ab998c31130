"""Name a flow run after what it does once that is known (`deploy-woosoo-20261125185802`)."""

from __future__ import annotations

import contextlib

__all__ = ["rename_run"]


def rename_run(name: str) -> None:
    from prefect.client.orchestration import get_client
    from prefect.runtime import flow_run

    run_id = flow_run.get_id()
    if not run_id:
        return
    with contextlib.suppress(Exception), get_client(sync_client=True) as client:
        client.update_flow_run(run_id, name=name)
