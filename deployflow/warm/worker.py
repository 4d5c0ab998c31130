"""The warm worker: Prefect's process worker whose runs start as forks of a warm zygote
(Prefect and deployflow imported once) instead of a fresh `python -m prefect.engine`. The run's
environment, output, control channel (cancel intents), process-group kill and crash handling
are the process worker's own; only the start differs. With no warm zygote (warming up, dead,
or a thread in it) a run starts the normal way, and the worker log says why.

Run: python -m deployflow.warm.worker --pool POOL --name NAME (`deployflow worker start`)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import stat
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import anyio.abc
from prefect.client.schemas.objects import FlowRun
from prefect.flows import load_flow_from_flow_run
from prefect.runner._flow_run_executor import FlowRunExecutionResult, FlowRunExecutorContext
from prefect.runner._process_manager import ProcessHandle, create_isolated_termination_scope
from prefect.runner._starter_engine import EngineCommandStarter
from prefect.settings import get_current_settings
from prefect.utilities.processutils import sanitize_subprocess_env
from prefect.workers.process import ProcessJobConfiguration, ProcessWorker, ProcessWorkerResult

from deployflow.warm.backstop import watch_crashes
from deployflow.warm.heartbeats import beat
from deployflow.warm.zygote_client import Cold, Zygote

__all__ = ["WarmWorker", "main"]


@dataclass
class _Forked:
    """What Prefect's process handle reads of a process: its pid and, once ended, its code."""

    pid: int
    returncode: int | None = None


class WarmStarter:
    """A `ProcessStarter` that forks the run from the zygote (else starts it cold)."""

    def __init__(self, zygote: Zygote, cold: EngineCommandStarter, **how: Any) -> None:
        self._zygote, self._cold, self._how = zygote, cold, how

    def _env(self, flow_run: FlowRun, control: dict[str, str]) -> dict[str, str]:
        """The environment `python -m prefect.engine` would get from the process worker."""
        env: dict[str, str | None] = {**os.environ, **self._how["env"]}
        env.update(get_current_settings().to_environment_variables(exclude_unset=True))
        env.update(
            {
                "PREFECT__FLOW_RUN_ID": str(flow_run.id),
                "PREFECT__ENABLE_CANCELLATION_AND_CRASHED_HOOKS": "false",
                "PREFECT__DEPLOYMENT_NAME": self._how["env"].get("PREFECT__DEPLOYMENT_NAME"),
                **control,
            }
        )
        return {k: v for k, v in sanitize_subprocess_env(env).items() if v is not None}

    async def start(
        self,
        flow_run: FlowRun,
        task_status: anyio.abc.TaskStatus[ProcessHandle] = anyio.TASK_STATUS_IGNORED,
    ) -> None:
        channel, control = self._how["control_channel"], {}
        with contextlib.suppress(RuntimeError):  # no channel: cancel by signal only
            port, token = channel.register(flow_run.id)
            control = {"PREFECT__CONTROL_PORT": str(port), "PREFECT__CONTROL_TOKEN": token}
        try:
            pid = await self._zygote.fork(self._env(flow_run, control), str(self._how["cwd"]))
        except Cold as why:
            if control:
                channel.unregister(flow_run.id)
            self._how["logger"].info("warm runner: %s; starting the run the normal way", why)
            await self._cold.start(flow_run, task_status=task_status)
            return
        process = _Forked(pid)
        scope = create_isolated_termination_scope(pid)  # its own session: cancel kills the tree
        task_status.started(ProcessHandle(process, termination_scope=scope))  # type: ignore[arg-type]
        seconds = get_current_settings().flows.heartbeat_frequency
        beats = seconds and asyncio.create_task(
            beat(self._how["client"], flow_run, seconds, self._how["logger"])
        )
        try:
            process.returncode = await self._zygote.wait(pid)
        finally:
            if beats:
                beats.cancel()


warnings.filterwarnings("ignore", message="Type 'WarmWorker'", category=UserWarning)


class WarmWorker(ProcessWorker):
    """A process worker (same pools, same job template) with a warm zygote. It keeps the
    type `process`, so pools and the UI see a process worker."""

    _description = "Process worker whose runs start as forks of a warm, pre-imported process."

    async def __aenter__(self) -> WarmWorker:
        await super().__aenter__()
        self._zygote = Zygote(self._logger)
        await self._zygote.start()
        self._poll: asyncio.Task | None = None
        self._again = False
        asyncio.get_running_loop().add_signal_handler(signal.SIGUSR1, self._poll_now)
        self._scheduled = asyncio.create_task(self._wake_on_scheduled())
        self._backstop = asyncio.create_task(
            watch_crashes(self.client, self._work_pool_name, self._logger)
        )
        return self

    async def _wake_on_scheduled(self) -> None:
        """A run scheduled on this pool (from the UI, an automation, anyone) wakes the worker as
        it is created, over the events stream Prefect's cancellation observer reads too; the
        poll stays the fallback while the stream is down."""
        from prefect.events.clients import get_events_subscriber
        from prefect.events.filters import EventFilter, EventNameFilter

        wanted = EventFilter(event=EventNameFilter(name=["prefect.flow-run.Scheduled"]))
        while True:
            try:
                async with get_events_subscriber(filter=wanted) as events:
                    async for event in events:
                        if any(
                            r.role == "work-pool" and r.name == self._work_pool_name
                            for r in event.related
                        ):
                            self._poll_now()
            except Exception as exc:  # the server restarting, say: poll until it is back
                self._logger.debug("warm runner: no run events (%s); polling", exc)
            await asyncio.sleep(5)

    def _poll_now(self) -> None:
        """A run was just created for this pool (SIGUSR1, an event): look now, not at the next
        poll. A burst of them makes one look, and one more after it, never a pile of queries."""
        if self._poll is not None and not self._poll.done():
            self._again = True
            return
        self._poll = asyncio.ensure_future(self._look())

    async def _look(self) -> None:
        self._again = True
        while self._again:
            self._again = False
            await self.get_and_submit_flow_runs()

    async def __aexit__(self, *exc_info: Any) -> None:
        self._scheduled.cancel()
        self._backstop.cancel()
        try:
            await super().__aexit__(*exc_info)  # runs still going are stopped the usual way
        finally:
            await self._zygote.close()  # then the zygote (a forked run dies with it)

    async def run(
        self,
        flow_run: FlowRun,
        configuration: ProcessJobConfiguration,
        task_status: anyio.abc.TaskStatus[int] | None = None,
    ) -> ProcessWorkerResult:
        task_status = task_status or anyio.TASK_STATUS_IGNORED
        with contextlib.ExitStack() as stack:
            cwd = configuration.working_dir or Path(
                stack.enter_context(tempfile.TemporaryDirectory(suffix="prefect"))
            )
            async with FlowRunExecutorContext() as ctx:
                how = {
                    "cwd": Path(cwd).resolve(),
                    "env": configuration.env,
                    "stream_output": configuration.stream_output,
                    "control_channel": ctx.control_channel,
                }
                cold = EngineCommandStarter(command=configuration.command, **how)
                starter = WarmStarter(
                    self._zygote, cold, logger=self._logger, client=self.client, **how
                )
                executor = ctx.create_executor(
                    flow_run,
                    starter,  # type: ignore[arg-type]
                    resolve_flow=load_flow_from_flow_run,
                    propose_submitting=False,
                )
                execution: FlowRunExecutionResult | None = None

                async def execute(
                    *, task_status: anyio.abc.TaskStatus[ProcessHandle] = anyio.TASK_STATUS_IGNORED
                ) -> None:
                    nonlocal execution
                    execution = await executor.submit(task_status=task_status)

                async with anyio.create_task_group() as group:
                    handle = await group.start(execute)
                    if handle.pid is None:
                        raise RuntimeError("Flow run process has no PID")
                    task_status.started(handle.pid)
        if execution is None or execution.status_code is None:
            raise RuntimeError("Failed to start flow run process.")
        return ProcessWorkerResult(
            status_code=execution.status_code, identifier=str(execution.handle.pid)
        )


async def _serve(pool: str, name: str) -> None:
    from prefect.settings import PREFECT_WORKER_HEARTBEAT_SECONDS

    worker = WarmWorker(
        name=name,
        work_pool_name=pool,
        heartbeat_interval_seconds=int(PREFECT_WORKER_HEARTBEAT_SECONDS.value()),
    )
    await worker.start(with_healthcheck=False, printer=print)


STALE_RUN_DIR = 3600.0  # s: an empty run dir this old belongs to no live run


def _clean_run_dirs() -> None:
    """Remove the empty working dirs (tmp*prefect) that runs of killed workers left behind."""
    now = time.time()
    for path in Path(tempfile.gettempdir()).glob("tmp*prefect"):
        with contextlib.suppress(OSError):
            info = path.lstat()
            ours = stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid()
            if ours and now - info.st_mtime > STALE_RUN_DIR:
                path.rmdir()  # fails (and is left) unless empty


def main() -> None:
    from prefect.utilities.processutils import setup_signal_handlers_worker

    parser = argparse.ArgumentParser(description="deployflow's warm Prefect worker")
    parser.add_argument("--pool", required=True)
    parser.add_argument("--name", required=True)
    args = parser.parse_args()
    setup_signal_handlers_worker(os.getpid(), "the warm worker", print)
    _clean_run_dirs()
    with contextlib.suppress(KeyboardInterrupt, asyncio.CancelledError):
        asyncio.run(_serve(args.pool, args.name))


if __name__ == "__main__":
    main()
