"""Release history storage: an append-only JSON-lines file under `.deployflow/`, and the
`current` symlink that says which release is live."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from deployflow.backends.files import append_line, read_link
from deployflow.core.context import StackContext
from deployflow.core.history import ReleaseRecord, Status, event, fold, parse_history

__all__ = [
    "created_after",
    "current_release",
    "history_offset",
    "history_size",
    "load_history",
    "record",
    "went_live_after",
]


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def record(
    ctx: StackContext, release_id: str, status: Status, note: str = "", **extra: object
) -> None:
    append_line(ctx.layout.history, event(release_id, status, now(), ctx.redact(note), **extra))


def load_history(ctx: StackContext) -> list[ReleaseRecord]:
    try:
        text = ctx.layout.history.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    return fold(parse_history(text))


def current_release(ctx: StackContext) -> str | None:
    return read_link(ctx.layout.current)


def history_size(ctx: StackContext) -> int:
    """Where the history ends now (an operation's journal keeps it)."""
    return history_offset(ctx.layout.history)


def history_offset(history: Path) -> int:
    """Where a root's history file ends now (0: none yet)."""
    try:
        return history.stat().st_size
    except FileNotFoundError:
        return 0


def _events_after(path: Path, offset: int) -> list[dict]:
    try:
        with open(path, "rb") as handle:
            handle.seek(offset)
            text = handle.read().decode("utf-8", errors="replace")
    except FileNotFoundError:
        return []
    return parse_history(text)


def created_after(history: Path, offset: int) -> list[str]:
    """The releases created in `history` (a root's releases.jsonl) after byte `offset`, oldest
    first: what an operation started at that point made, when nothing else told."""
    return [e["release"] for e in _events_after(history, offset) if e.get("status") == "created"]


def went_live_after(ctx: StackContext, release_id: str, offset: int) -> bool:
    """Whether `release_id` was recorded live after byte `offset` of the history: an
    operation killed after that point had finished."""
    return any(
        e.get("release") == release_id and e.get("status") == "live"
        for e in _events_after(ctx.layout.history, offset)
    )
