"""A release's snapshot file read back: what each app runs from, its build key, configs and
services in that release."""

from __future__ import annotations

from deployflow.core.context import StackContext
from deployflow.core.snapshot import Snapshot
from deployflow.errors import ReleaseError

__all__ = ["load_snapshot"]


def load_snapshot(ctx: StackContext, release_id: str) -> Snapshot:
    try:
        return Snapshot.from_json(ctx.layout.snapshot(release_id).read_text())
    except FileNotFoundError:
        raise ReleaseError(
            f"release {release_id} has no snapshot ({ctx.layout.snapshot(release_id)}); it was "
            "made by an older deployflow or is incomplete: deploy a new release"
        ) from None
