"""The live deploy view: one row per stage (pending, running with a spinner and its elapsed
time, ok, failed, skipped) and, under a running stage, the last line its steps printed. Fed by
`ops.progress` events from the deploy running in this process; Prefect's console lines are
held back meanwhile (they still reach the Prefect API)."""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from deployflow.ops.progress import Progress, listening

__all__ = ["DeployView", "watched"]

T = TypeVar("T")
_MARK = {"ok": ("✓", "green"), "failed": ("✗", "red"), "skipped": ("-", "dim")}


class DeployView:
    def __init__(self) -> None:
        self.rows: dict[str, dict[str, Any]] = {}
        self.last_line = ""
        self._lock = threading.Lock()

    def handle(self, event: Progress) -> None:
        with self._lock:
            if event.kind == "plan":
                for name in event.stages:
                    self.rows.setdefault(name, {"status": "pending", "detail": ""})
            elif event.kind == "line":
                self.last_line = event.text
            else:
                row = self.rows.setdefault(event.stage, {})
                row.update(status="running" if event.kind == "start" else event.kind)
                row["detail"] = event.text
                row["seconds"] = event.seconds
                if event.kind == "start":
                    row["since"] = time.monotonic()
                    self.last_line = ""

    def __rich__(self) -> Any:
        from rich.spinner import Spinner
        from rich.table import Table
        from rich.text import Text

        table = Table.grid(padding=(0, 1))
        table.add_column(width=2)
        table.add_column(min_width=12)
        table.add_column(justify="right", min_width=7)
        table.add_column(overflow="ellipsis", no_wrap=True)
        with self._lock:
            for name, row in self.rows.items():
                status = row.get("status", "pending")
                if status == "pending":
                    table.add_row(Text("·", style="dim"), Text(name, style="dim"), "", "")
                    continue
                if status == "running":
                    elapsed = time.monotonic() - row["since"]
                    table.add_row(Spinner("dots"), Text(name, style="bold"), f"{elapsed:.1f}s", "")
                    if self.last_line:
                        table.add_row("", "", "", Text(self.last_line[:200], style="dim"))
                    continue
                mark, style = _MARK.get(status, ("?", ""))
                seconds = f"{row['seconds']:.1f}s" if status != "skipped" else ""
                detail = Text(str(row["detail"]).splitlines()[0] if row["detail"] else "")
                table.add_row(Text(mark, style=style), Text(name, style=style), seconds, detail)
        return table


_CONSOLE_LEVEL = "PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL"


@contextlib.contextmanager
def _console_logs_held() -> Iterator[None]:
    """Prefect's console handler silenced: through its setting when Prefect has not set up
    logging yet (the usual case in the CLI), on the handlers themselves when it has."""
    saved_env = os.environ.get(_CONSOLE_LEVEL)
    os.environ[_CONSOLE_LEVEL] = "CRITICAL"
    held = []
    for logger in [logging.getLogger(), *logging.Logger.manager.loggerDict.values()]:
        for handler in getattr(logger, "handlers", []):
            if type(handler).__name__ == "PrefectConsoleHandler":
                held.append((handler, handler.level))
                handler.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for handler, level in held:
            handler.setLevel(level)
        if saved_env is None:
            os.environ.pop(_CONSOLE_LEVEL, None)
        else:
            os.environ[_CONSOLE_LEVEL] = saved_env


def watched(work: Callable[[], T]) -> T:
    """Run `work` (a deploy in this process) under the live view."""
    from rich.console import Console
    from rich.live import Live

    view = DeployView()
    console = Console()
    with (
        _console_logs_held(),
        listening(view.handle),
        Live(view, console=console, refresh_per_second=10, transient=False),
    ):
        return work()
