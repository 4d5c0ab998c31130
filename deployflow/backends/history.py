"""Release history storage: an append-only JSON-lines file under `.deployflow/`, and the
`current` symlink that says which release is live."""

from __future__ import annotations

from datetime import UTC, datetime

from deployflow.backends.files import append_line, read_link
from deployflow.core.context import StackContext
from deployflow.core.history import ReleaseRecord, Status, event, fold, parse_history

__all__ = ["current_release", "load_history", "record"]


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
