"""A flow run's log lines from the Prefect REST API, in order and none twice: read once, or
followed until the run ends (its last lines, which reach the API just after its final state,
included). Prefect-free, for `runs logs -f` and foreground runs on the warm worker."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from deployflow.backends.prefect_rest import FINAL, PrefectRest

__all__ = ["DRAIN_SECONDS", "RunLogs", "log_line"]

DRAIN_SECONDS = 2.0
STATE_EVERY = 1.0
NAME_WAIT = 2.0
PAGE = 200


def log_line(log: dict[str, Any], task: str | None = None) -> str:
    """`12:00:01 message`, or `12:00:01 [stage-abc] message` for a task's line; a traceback
    stays in the UI (one line per event on the terminal)."""
    stamp = datetime.fromisoformat(log["timestamp"]).strftime("%H:%M:%S")
    message, traceback, _rest = log["message"].partition("\nTraceback (most recent call last)")
    if traceback:
        message += " (traceback: in the run's page in the Prefect UI)"
    return f"{stamp} [{task}] {message}" if task else f"{stamp} {message}"


class RunLogs:
    """Where reading stopped is kept, so following can go on after an interruption. A line
    of a task the API has not recorded yet is held back (at most NAME_WAIT seconds) so it
    shows with the task's name."""

    def __init__(self, rest: PrefectRest, run_id: str) -> None:
        self.rest, self.run_id, self.offset = rest, run_id, 0
        self.state: dict[str, Any] = {}
        self._tasks: dict[str, str] = {}
        self._held_since: float | None = None
        self._ended = False  # the flow run logged its final "Finished in state ..."

    def _named(self, batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The lines of `batch` that can go out now: up to the first unnamed task's."""
        unknown = list({t for log in batch if (t := log.get("task_run_id")) not in self._tasks})
        if any(unknown):
            self._tasks.update(self.rest.task_run_names([t for t in unknown if t]))
        ready = []
        for log in batch:
            task = log.get("task_run_id")
            if task and task not in self._tasks:
                self._held_since = self._held_since or time.monotonic()
                if time.monotonic() - self._held_since < NAME_WAIT:
                    return ready
                self._tasks[task] = task[:8]
            ready.append(log)
        self._held_since = None
        return ready

    def lines(
        self,
        follow: bool,
        tail: int | None = None,
        poll: float = 0.5,
        gone: Callable[[], bool] = lambda: False,
    ) -> Iterator[str]:
        """The run's lines; following, the logs are read every `poll` s and the run's state
        every STATE_EVERY s, or at once when the flow's own last line is in. Following stops
        early when `gone()` says the run's process cannot end it any more (its worker died)."""
        first, quiet_since, state_read = True, None, 0.0
        while True:
            batch = self.rest.logs(self.run_id, self.offset)
            ready = self._named(batch)
            self.offset += len(ready)
            self._ended = self._ended or any(
                not log.get("task_run_id") and log["message"].startswith("Finished in state")
                for log in ready
            )
            lines = [log_line(log, self._tasks.get(log.get("task_run_id") or "")) for log in ready]
            if first and tail is not None:
                lines = lines[-tail:] if tail else []
            first = False
            yield from lines
            if len(batch) == PAGE and len(ready) == PAGE:
                continue
            if not follow:
                if len(ready) == len(batch):
                    return
                time.sleep(poll)  # a held line: its task's name comes in a moment
                continue
            if self._ended or time.monotonic() - state_read >= STATE_EVERY:
                self.state = self.rest.run(self.run_id).get("state") or {}
                state_read = time.monotonic()
                if self.state.get("type") not in FINAL and gone():
                    return
            if self.state.get("type") in FINAL:
                if self._ended and len(ready) == len(batch):
                    return  # the flow's own last line is in: nothing more will come
                quiet_since = quiet_since if not batch and quiet_since else time.monotonic()
                if time.monotonic() - quiet_since >= DRAIN_SECONDS:
                    return
            time.sleep(poll)
