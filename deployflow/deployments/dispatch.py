"""A rollout's runs on the targets' workers: each started from the target's deployment as a
subflow of the rollout (so the UI shows them under it), then followed through the API until it
ends; a run no worker took within the start timeout is cancelled and reported unreachable."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from deployflow.backends.workers import wake_worker
from deployflow.core.context import StackContext
from deployflow.deployments.specs import deployment_spec
from deployflow.errors import DeployflowError
from deployflow.ops.rollout import Outcome

__all__ = ["ALIVE_SECONDS", "POLL", "PrefectDispatcher"]

POLL = 0.5
ALIVE_SECONDS = 45.0  # a worker heartbeats every 30 s: silent for longer, it is gone


class PrefectDispatcher:
    def __init__(self, ctx: StackContext) -> None:
        self.ctx = ctx

    def start(self, kind: str, target: str, parameters: dict[str, Any]) -> str:
        from prefect.deployments import run_deployment
        from prefect.exceptions import ObjectNotFound

        spec = deployment_spec(self.ctx, kind, target)
        try:
            run = run_deployment(
                spec.full_name, parameters=spec.run_parameters(parameters), timeout=0
            )
        except ObjectNotFound:
            raise DeployflowError(
                f"no deployment {spec.full_name!r}; run `deployflow deployments apply` first"
            ) from None
        wake_worker(spec.pool)  # a worker of this host looks now, not at its next poll
        return str(run.id)

    def _unreachable(
        self, client: Any, target: str, waited: float, start_timeout: float
    ) -> str | None:
        """Why a run not started after `waited` seconds counts as unreachable, or None (wait
        on). Past the start timeout a pool without a live worker is unreachable; a pool whose
        worker is alive (a busy server can delay its pick-up) is given ten times as long."""
        if waited <= start_timeout:
            return None
        pool = deployment_spec(self.ctx, "deploy", target).pool
        horizon = datetime.now(UTC) - timedelta(seconds=ALIVE_SECONDS)
        workers = client.read_workers_for_work_pool(pool, offset=0, limit=100)
        alive = [w for w in workers if w.last_heartbeat_time and w.last_heartbeat_time > horizon]
        if not alive:
            return f"no live worker on pool {pool} (none took the run in {waited:.0f}s)"
        if waited > start_timeout * 10:
            return f"the worker on pool {pool} did not take the run in {waited:.0f}s"
        return None

    def wait(self, runs: dict[str, str], start_timeout: float) -> dict[str, Outcome]:
        from prefect.client.orchestration import get_client
        from prefect.client.schemas.objects import StateType
        from prefect.states import Cancelled

        since = time.monotonic()
        pending = dict(runs)
        out: dict[str, Outcome] = {}
        with get_client(sync_client=True) as client:
            while pending:
                for target, run_id in list(pending.items()):
                    run = client.read_flow_run(UUID(run_id))
                    state = run.state
                    seconds = round(run.total_run_time.total_seconds(), 2)
                    if state is not None and state.is_final():
                        detail = "" if state.is_completed() else (state.message or "")
                        out[target] = Outcome(state.type.value.lower(), detail[:300], seconds)
                        del pending[target]
                    elif (state is None or state.type == StateType.SCHEDULED) and (
                        why := self._unreachable(
                            client, target, time.monotonic() - since, start_timeout
                        )
                    ):
                        client.set_flow_run_state(run.id, Cancelled(message=why), force=True)
                        out[target] = Outcome("unreachable", why)
                        del pending[target]
                if pending:
                    time.sleep(POLL)
        return out
