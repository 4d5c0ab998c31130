"""A deploy's git sources: each git app fetched into its mirror and the commit to deploy (a
webhook's exact SHA, else `--ref`, else the stack's ref) exported for the build; what each
release deployed is recorded in its snapshot and found again by SHA prefix."""

from __future__ import annotations

from deployflow.backends.gitsource import Commit, export, fetch, resolve
from deployflow.backends.treeops import remove
from deployflow.core.context import StackContext
from deployflow.core.snapshot import Snapshot
from deployflow.stages import Log

__all__ = ["prepare_sources", "release_for_commit"]


def _url(ctx: StackContext, git: str) -> str:
    if "://" in git or git.startswith("git@"):
        return git
    return str((ctx.stack_dir / git).resolve())  # a path, relative to the stack file


def prepare_sources(
    ctx: StackContext, ref: str | None, revision: str | None, log: Log
) -> dict[str, Commit]:
    """{app: the commit exported for it}; `ctx.sources` then points the build at it."""
    commits = {}
    for app, spec in ctx.stack.apps.items():
        source = spec.source
        if isinstance(source, str):
            continue
        base = ctx.layout.state / "git"
        mirror = base / f"{app}.git"
        fetch(_url(ctx, source.git), mirror, app)
        wanted = revision or ref or source.ref
        commit = resolve(mirror, wanted, app)
        dest = export(mirror, commit, base / app / commit.sha)
        for other in dest.parent.iterdir():  # older exports: the mirror makes them again
            if other != dest:
                remove(other)
        ctx.sources[app] = dest
        commits[app] = commit
        log(f"{app}: {wanted} is {commit.sha[:12]} by {commit.author}: {commit.subject[:72]}")
    return commits


def release_for_commit(ctx: StackContext, prefix: str, releases: list[str]) -> str | None:
    """The newest of `releases` that deployed a commit starting with `prefix` (4+ hex)."""
    if len(prefix) < 4 or any(c not in "0123456789abcdef" for c in prefix.lower()):
        return None
    for rid in reversed(releases):
        try:
            snap = Snapshot.from_json(ctx.layout.snapshot(rid).read_text())
        except (OSError, ValueError, KeyError):
            continue
        if any(
            (a.commit or {}).get("sha", "").startswith(prefix.lower()) for a in snap.apps.values()
        ):
            return rid
    return None
