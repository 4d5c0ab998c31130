"""The run summary every flow fills in stage by stage; it becomes the report and the CLI output."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, is_dataclass
from datetime import UTC, datetime
from typing import Any

from deployflow.core.context import StackContext

__all__ = ["Summary"]


def _nobody(_kind: str, _entry: dict[str, Any]) -> None:
    return None


class Summary:
    def __init__(
        self,
        ctx: StackContext,
        flow: str,
        apps: list[str],
        release: str,
        watch: Callable[[str, dict[str, Any]], None] = _nobody,
    ) -> None:
        """`watch(kind, entry)` hears each stage start and end (kind: start, ok, failed,
        skipped): the CLI's live view."""
        self._t0 = time.monotonic()
        self._watch = watch
        self.data: dict[str, Any] = {
            "flow": flow,
            "project": ctx.stack.project,
            "environment": ctx.stack.environment,
            "root": str(ctx.root),
            "release": release,
            "previous": None,
            "live": None,
            "apps": apps,
            "result": "running",
            "error": None,
            "started": datetime.now(UTC).isoformat(timespec="seconds"),
            "seconds": 0.0,
            "stages": [],
            "health": [],
            "urls": {},
            "warnings": [],
        }

    def __getitem__(self, key: str) -> Any:
        return self.data[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.data[key] = value

    @contextlib.contextmanager
    def stage(self, name: str) -> Iterator[dict[str, Any]]:
        """Time a stage; it is recorded as ok, or failed with the error, which propagates."""
        entry: dict[str, Any] = {"name": name, "status": "ok", "seconds": 0.0, "detail": ""}
        started = time.monotonic()
        self._watch("start", entry)
        try:
            yield entry
        except BaseException as exc:
            entry["status"] = "failed"
            entry["detail"] = str(exc) or type(exc).__name__
            raise
        finally:
            entry["seconds"] = round(time.monotonic() - started, 3)
            self.data["stages"].append(entry)
            self._watch(entry["status"], entry)

    def skip(self, name: str, why: str) -> None:
        entry = {"name": name, "status": "skipped", "seconds": 0.0, "detail": why}
        self.data["stages"].append(entry)
        self._watch("skipped", entry)

    def warn(self, message: str) -> None:
        self.data["warnings"].append(message)

    def finish(self, result: str, error: str | None = None) -> dict[str, Any]:
        self.data["result"] = result
        self.data["error"] = error
        self.data["seconds"] = round(time.monotonic() - self._t0, 3)
        return self.data

    @staticmethod
    def plain(items: list[Any]) -> list[dict[str, Any]]:
        return [asdict(i) if is_dataclass(i) else dict(i) for i in items]
