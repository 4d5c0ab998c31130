"""SQL migrations, the atomic `current` switch and retention."""

from __future__ import annotations

from pathlib import Path

from deployflow.backends.engines import engine_for
from deployflow.backends.files import switch_symlink
from deployflow.backends.history import current_release, load_history
from deployflow.backends.images import remove_images
from deployflow.backends.treeops import remove
from deployflow.core.containerspec import image_tag
from deployflow.core.context import StackContext
from deployflow.core.history import releases_to_prune
from deployflow.core.snapshot import Snapshot
from deployflow.stages import Log
from deployflow.stages.deps import DEPS_MARK

__all__ = ["migrate", "prune_releases", "switch_current"]


def migrate(ctx: StackContext, apps: list[str], release_id: str, log: Log) -> list[str]:
    applied = []
    for app in apps:
        spec = ctx.stack.apps[app].migrations
        if spec is None:
            continue
        directory = ctx.layout.app_dir(release_id, app) / spec.dir
        db = ctx.database(spec.database)
        applied += engine_for(db).apply_migrations(db, directory, log)
    return applied


def switch_current(ctx: StackContext, release_id: str, log: Log) -> str | None:
    """Point `current` at the release; returns the release it pointed at before."""
    previous = current_release(ctx)
    switch_symlink(ctx.layout.current, Path("releases") / release_id)
    log(f"current -> releases/{release_id} (was {previous or 'none'})")
    return previous


def _depends(ctx: StackContext, on_disk: list[str]) -> dict[str, set[str]]:
    """Which releases each release runs apps from (its snapshot's `runs_from`)."""
    depends: dict[str, set[str]] = {}
    for rid in on_disk:
        try:
            snap = Snapshot.from_json(ctx.layout.snapshot(rid).read_text())
        except (FileNotFoundError, ValueError, KeyError):
            continue
        depends[rid] = {a.runs_from for a in snap.apps.values()} - {rid}
    return depends


def prune_releases(ctx: StackContext, log: Log) -> list[str]:
    """Keep `keep_releases` good releases (and what they run from); then drop unused builds."""
    lay = ctx.layout
    on_disk = (
        [p.name for p in lay.releases.iterdir() if p.is_dir() and not p.name.startswith(".")]
        if lay.releases.is_dir()
        else []
    )
    doomed = releases_to_prune(
        on_disk,
        load_history(ctx),
        ctx.stack.paths.keep_releases,
        current_release(ctx),
        _depends(ctx, on_disk),
    )
    for rid in doomed:
        remove(lay.release(rid))
    if doomed:
        log(f"removed {len(doomed)} old releases: {', '.join(doomed)}")
    _prune_builds(ctx, [r for r in on_disk if r not in doomed], log)
    return doomed


def _read_lines(path: Path) -> list[str]:
    try:
        return path.read_text().splitlines()
    except OSError:
        return []


def _prune_builds(ctx: StackContext, kept: list[str], log: Log) -> None:
    used: set[tuple[str, str]] = set()
    for rid in kept:
        try:
            snap = Snapshot.from_json(ctx.layout.snapshot(rid).read_text())
        except (FileNotFoundError, ValueError, KeyError):
            return  # an unreadable snapshot: keep every build rather than guess
        used |= {(app, ctx.layout.build_dir(app, a.key).name) for app, a in snap.apps.items()}
        used |= {
            (app, line.removeprefix(DEPS_MARK))  # the dependency layer a kept build links
            for app, a in snap.apps.items()
            for line in _read_lines(ctx.layout.build_done(app, a.key))
            if line.startswith(DEPS_MARK)
        }
    builds = ctx.layout.builds
    removed = 0
    images: list[str] = []  # a pruned build's image goes with it (a kept release's stays)
    for app_dir in builds.iterdir() if builds.is_dir() else []:
        app = ctx.stack.apps.get(app_dir.name)
        for entry in app_dir.iterdir():
            name = entry.name.removesuffix(".done")
            if (app_dir.name, name) not in used:
                remove(entry)
                removed += 1
                built = not entry.name.endswith(".done") and not name.startswith("deps-")
                if app is not None and app.docker and built:
                    images.append(image_tag(ctx.stack.project, app_dir.name, name))
    if removed:
        log(f"removed {removed} unused build entries")
    if images:
        gone = remove_images(images)
        if gone:
            log(f"removed {len(gone)} images of pruned builds: {', '.join(gone)}")
