"""Release: link shared files and configs, migrate, switch `current` atomically, keep history."""

from __future__ import annotations

import json
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

from deployflow.backends.database import apply_migrations
from deployflow.backends.files import append_line, atomic_write, read_link, switch_symlink
from deployflow.core.configs import render_configs
from deployflow.core.context import StackContext
from deployflow.core.history import (
    ReleaseRecord,
    Status,
    event,
    fold,
    parse_history,
    releases_to_prune,
)
from deployflow.stages import Log

__all__ = [
    "CONFIG_SNAPSHOT",
    "current_release",
    "link_app",
    "load_history",
    "migrate",
    "prune_releases",
    "record",
    "snapshot_configs",
    "switch_current",
    "write_revision",
]

CONFIG_SNAPSHOT = ".configs"


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


def _replace_with_link(path: Path, target: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.is_dir():
        shutil.rmtree(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(target, path)


def link_app(ctx: StackContext, app: str, release_id: str, log: Log) -> None:
    """Shared dirs/files and rendered configs become symlinks into shared/."""
    lay = ctx.layout
    app_dir = lay.app_dir(release_id, app)
    source = (ctx.stack_dir / ctx.stack.apps[app].source).resolve()
    for entry in ctx.stack.apps[app].shared:
        is_dir = entry.endswith("/")
        rel = entry.rstrip("/")
        shared_path = lay.shared / app / rel
        if not shared_path.exists():
            seed = source / rel
            if seed.is_dir():
                shutil.copytree(seed, shared_path, symlinks=True)
            elif seed.is_file():
                shared_path.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(seed, shared_path)
            elif is_dir:
                shared_path.mkdir(parents=True)
            else:
                shared_path.parent.mkdir(parents=True, exist_ok=True)
                shared_path.touch()
        _replace_with_link(app_dir / rel, shared_path)
    for config in render_configs(ctx, [app], with_stack=False):
        _replace_with_link(app_dir / config.dest, config.path)
    log(f"{app}: shared paths and configs linked")


def write_revision(ctx: StackContext, release_id: str, versions: dict[str, str]) -> None:
    release = ctx.layout.release(release_id)
    atomic_write(release / "REVISION", release_id + "\n")
    atomic_write(release / "versions.json", json.dumps(versions, indent=2) + "\n")


def snapshot_configs(ctx: StackContext, release_id: str) -> Path:
    """Freeze the configs this release went live with, for `rollback --to` later."""
    dest = ctx.layout.release(release_id) / CONFIG_SNAPSHOT
    shutil.rmtree(dest, ignore_errors=True)
    src = ctx.layout.shared / "configs"
    if src.is_dir():
        shutil.copytree(src, dest)
    else:
        dest.mkdir(parents=True)
    return dest


def migrate(ctx: StackContext, apps: list[str], release_id: str, log: Log) -> list[str]:
    applied = []
    for app in apps:
        spec = ctx.stack.apps[app].migrations
        if spec is None:
            continue
        directory = ctx.layout.app_dir(release_id, app) / spec.dir
        applied += apply_migrations(ctx.database(spec.database), directory, log)
    return applied


def switch_current(ctx: StackContext, release_id: str, log: Log) -> str | None:
    """Point `current` at the release; returns the release it pointed at before."""
    previous = current_release(ctx)
    switch_symlink(ctx.layout.current, Path("releases") / release_id)
    log(f"current -> releases/{release_id} (was {previous or 'none'})")
    return previous


def prune_releases(ctx: StackContext, log: Log) -> list[str]:
    lay = ctx.layout
    on_disk = (
        [p.name for p in lay.releases.iterdir() if p.is_dir()] if lay.releases.is_dir() else []
    )
    doomed = releases_to_prune(
        on_disk, load_history(ctx), ctx.stack.paths.keep_releases, current_release(ctx)
    )
    for rid in doomed:
        shutil.rmtree(lay.release(rid), ignore_errors=True)
    if doomed:
        log(f"removed {len(doomed)} old releases: {', '.join(doomed)}")
    return doomed
