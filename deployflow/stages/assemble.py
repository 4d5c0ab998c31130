"""Assemble a release directory from builds, shared paths and freshly rendered configs, and
write its snapshot. Nothing live is touched: the release is not `current` yet."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from deployflow.backends.files import atomic_write, fsync_dir, link_outside, replace_with_link
from deployflow.backends.treeops import copy_dir, copy_file, link_tree, make_dir, make_link
from deployflow.core.configs import RenderedConfig
from deployflow.core.containerspec import container_spec
from deployflow.core.context import StackContext
from deployflow.core.healthplan import check_specs
from deployflow.core.servicespec import service_spec
from deployflow.core.snapshot import AppState, Snapshot
from deployflow.errors import ReleaseError
from deployflow.stages import Log
from deployflow.stages.build import app_source
from deployflow.stages.snapshotfile import load_snapshot

__all__ = [
    "app_state",
    "config_entries",
    "install_shared_configs",
    "link_build",
    "release_complete",
    "write_release",
]


def config_entries(configs: list[RenderedConfig]) -> dict[str, dict]:
    return {
        c.dest: {
            "sha": hashlib.sha256(c.content.encode()).hexdigest(),
            "masked": c.masked,
            "mode": f"{c.mode:04o}",
        }
        for c in configs
    }


def app_state(
    ctx: StackContext, app: str, release_id: str, key: str, configs: list[RenderedConfig]
) -> AppState:
    """What the app would be in `release_id`, with every template rendered for it."""
    services = {
        n: container_spec(ctx, app, key, release_id, service_spec(ctx, n, release_id))
        for n in ctx.stack.apps[app].services
    }
    return AppState(
        key=key,
        runs_from=release_id,
        configs=config_entries(configs),
        services=services,
        checks=check_specs(ctx, app, release_id),
    )


def release_complete(ctx: StackContext, release_id: str) -> bool:
    """A release that can go live again: its snapshot and every dir its apps run from."""
    try:
        snap = load_snapshot(ctx, release_id)
    except ReleaseError:
        return False
    return all(ctx.layout.app_dir(s.runs_from, app).is_dir() for app, s in snap.apps.items())


def link_build(build: Path, dest: Path) -> None:
    """The release's copy of a build: hard links (no copying, no extra disk), so the app sees
    real paths of its own release while the build dir stays untouched."""
    link_tree(build, dest)


def _link_shared(ctx: StackContext, app: str, app_dir: Path) -> None:
    lay = ctx.layout
    source = app_source(ctx, app)
    for entry in ctx.stack.apps[app].shared:
        rel = entry.rstrip("/")
        for base in (app_dir, lay.shared / app):
            link = link_outside(base, rel, lay.root)
            if link is not None:  # what it points at must never be replaced or removed
                raise ReleaseError(
                    f"apps.{app}.shared: {entry!r} goes through {base / link}, a symlink out "
                    f"of {lay.root}; shared paths must stay inside the deploy root"
                )
        shared_path = lay.shared / app / rel
        if not shared_path.exists():
            seed = source / rel
            if seed.is_dir():
                copy_dir(seed, shared_path)
            elif seed.is_file():
                copy_file(seed, shared_path)
            elif entry.endswith("/"):
                make_dir(shared_path)
            else:
                atomic_write(shared_path, b"")
        replace_with_link(app_dir / rel, shared_path)


STAGED = ".shared"  # releases/<id>/.shared/<app>/<dest>: configs that live in a shared dir


def _in_shared(ctx: StackContext, app: str | None, dest: str) -> bool:
    """The config's dest lies in one of the app's shared paths (it would be live at once)."""
    if app is None:
        return False
    entries = [e.rstrip("/") for e in ctx.stack.apps[app].shared]
    return any(dest == e or dest.startswith(e + "/") for e in entries)


def install_shared_configs(ctx: StackContext, release_id: str, log: Log) -> list[str]:
    """At switch (and when a release is put back): the release's configs that live in shared
    dirs, copied in from where they were staged; what it installed."""
    staged = ctx.layout.release(release_id) / STAGED
    installed = []
    for source in sorted(staged.rglob("*")) if staged.is_dir() else []:
        if source.is_symlink() or not source.is_file():
            continue
        rel = source.relative_to(staged)
        dest = ctx.layout.shared / rel
        if link_outside(ctx.layout.shared, str(rel), ctx.layout.root) is not None:
            raise ReleaseError(f"{dest}: goes through a symlink out of {ctx.layout.root}")
        data = source.read_bytes()
        if dest.is_file() and not dest.is_symlink() and dest.read_bytes() == data:
            continue
        atomic_write(dest, data, source.stat().st_mode & 0o777)
        installed.append(str(rel))
        log(f"{rel.parts[0]}: {'/'.join(rel.parts[1:])} installed in its shared dir")
    return installed


def _write_configs(ctx: StackContext, release_id: str, configs: list[RenderedConfig]) -> None:
    for config in configs:
        path = ctx.layout.config_file(release_id, config.app, config.dest)
        if _in_shared(ctx, config.app, config.dest):  # staged: swapped in at switch
            path = ctx.layout.release(release_id) / STAGED / str(config.app) / config.dest
        base = ctx.layout.config_file(release_id, config.app, "")
        link = link_outside(base, config.dest, ctx.layout.root)
        if link is not None:
            raise ReleaseError(
                f"{config.label}: {config.dest} goes through {base / link}, a symlink out of "
                f"{ctx.layout.root}; configs are written inside the deploy root only"
            )
        if path.is_symlink() or (path.exists() and not path.is_file()):
            raise ReleaseError(f"{config.label}: {path} exists and is not a plain file")
        atomic_write(path, config.content, config.mode)  # replaces a hard link, never edits it


def write_release(
    ctx: StackContext,
    snapshot: Snapshot,
    builds: dict[str, Path],
    configs: list[RenderedConfig],
    log: Log,
) -> Path:
    """releases/<id>/: changed apps from their builds (+ shared links + configs), unchanged
    apps as links to the release they run from, then REVISION, versions.json and the snapshot."""
    lay = ctx.layout
    rid = snapshot.release
    release = lay.release(rid)
    if release.exists():
        raise ReleaseError(f"release {rid} already exists under {lay.releases}")
    make_dir(release)
    for app, state in snapshot.apps.items():
        app_dir = lay.app_dir(rid, app)
        if state.runs_from != rid:
            make_link(app_dir, Path("..") / state.runs_from / app)
            log(f"{app}: unchanged; runs on from release {state.runs_from}")
            continue
        link_build(builds[app], app_dir)
        _link_shared(ctx, app, app_dir)
        marker = app_dir / "VERSION"
        state.version = marker.read_text().strip() if marker.is_file() else ""
    _write_configs(ctx, rid, configs)
    atomic_write(release / "REVISION", rid + "\n")
    versions = {app: s.version for app, s in snapshot.apps.items()}
    atomic_write(release / "versions.json", json.dumps(versions, indent=2) + "\n")
    atomic_write(lay.snapshot(rid), snapshot.to_json(), 0o600)  # service env may hold secrets
    fsync_dir(lay.releases)
    return release
