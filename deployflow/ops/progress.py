"""What a run is doing, for whoever watches it in this process (the CLI's live deploy view):
the stages planned, each stage starting, ending ok / failed / skipped, and each output line.
Nobody listening (a worker, a test) costs nothing; a listener that fails never stops a run."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

__all__ = ["Progress", "listening", "publish", "stage_event"]


@dataclass(frozen=True)
class Progress:
    kind: str  # plan | start | ok | failed | skipped | line | settled offline
    stage: str = ""
    text: str = ""  # a stage's detail, or an output line
    seconds: float = 0.0
    stages: tuple[str, ...] = ()  # with plan: every stage, in order
    summary: dict[str, Any] | None = None  # settled offline: the outcome (flows/settle.py)


_listeners: list[Callable[[Progress], None]] = []
_lock = threading.Lock()


def publish(event: Progress) -> None:
    with _lock:
        listeners = list(_listeners)
    for listener in listeners:
        with contextlib.suppress(Exception):
            listener(event)


def stage_event(kind: str, entry: dict[str, Any]) -> None:
    """Summary's hook: a stage entry (name, status, seconds, detail) started or ended."""
    publish(
        Progress(kind, entry["name"], str(entry.get("detail") or ""), entry.get("seconds", 0.0))
    )


@contextlib.contextmanager
def listening(listener: Callable[[Progress], None]) -> Iterator[None]:
    with _lock:
        _listeners.append(listener)
    try:
        yield
    finally:
        with _lock:
            _listeners.remove(listener)
