"""Build: each app once into a content-addressed dir `builds/<app>/<key>/`, reused by every
release with the same inputs (a virtualenv's absolute paths stay valid there)."""

from __future__ import annotations

import errno
import os
import time
from dataclasses import dataclass
from pathlib import Path

from deployflow.backends.executor import Command, run
from deployflow.backends.files import atomic_write, copy_tree, escaping_links
from deployflow.backends.treeops import remove
from deployflow.core.checksums import IGNORED, build_key, tree_hash
from deployflow.core.context import StackContext
from deployflow.errors import BuildError
from deployflow.stages import Log
from deployflow.stages.appcommand import app_command
from deployflow.stages.appenv import app_environment
from deployflow.stages.appsteps import rendered_steps
from deployflow.stages.deps import DEPS_MARK, deps_key, ensure_deps, link_deps
from deployflow.stages.image import ensure_app_image
from deployflow.stages.testdb import test_database

__all__ = ["BuildResult", "app_build_key", "app_source", "build_app", "run_tests"]

NO_SPACE = os.strerror(errno.ENOSPC)  # "No space left on device", in a step's output too


@dataclass(frozen=True)
class BuildResult:
    app: str
    key: str
    path: str
    seconds: float
    steps: int
    reused: bool


def app_source(ctx: StackContext, app: str) -> Path:
    """The app's source dir: its path (the loader has checked it lies inside the stack's
    directory), or for a git source the commit this deploy exported."""
    if app in ctx.sources:
        return ctx.sources[app]
    spec = ctx.stack.apps[app].source
    if not isinstance(spec, str):
        raise BuildError(f"apps.{app}.source: git sources are fetched by a deploy or a plan")
    source = (ctx.stack_dir / spec).resolve()
    if not source.is_dir():
        raise BuildError(f"apps.{app}.source: {source} is not a directory")
    return source


def app_build_key(ctx: StackContext, app: str) -> str:
    """Source tree hash + resolved build steps (+ the dependency layer's key): the same inputs
    give the same build."""
    source = app_source(ctx, app)
    layer = deps_key(ctx, app, source)
    return build_key(tree_hash(source), rendered_steps(ctx, app), {"deps": layer or ""})


def _step_env(ctx: StackContext, app: str, dest: Path) -> dict[str, str]:
    return {"DEPLOYFLOW_APP": app, "DEPLOYFLOW_ROOT": str(ctx.root), "DEPLOYFLOW_BUILD": str(dest)}


def build_app(ctx: StackContext, app: str, key: str, log: Log) -> BuildResult:
    """Build into builds/<app>/<key>/ unless a finished build is there already."""
    lay = ctx.layout
    dest, done = lay.build_dir(app, key), lay.build_done(app, key)
    if done.is_file() and dest.is_dir():
        log(f"{app}: build {key[:12]} reused (inputs unchanged)")
        if ctx.stack.apps[app].docker:  # its image too (made again if the engine lost it)
            ensure_app_image(ctx, app, key, dest, log)
        return BuildResult(app, key, str(dest), 0.0, 0, True)
    started = time.monotonic()
    source = app_source(ctx, app)
    outside = escaping_links(source, IGNORED)
    if outside:
        path, target = outside[0]
        raise BuildError(
            f"apps.{app}.source: {path} is a symlink to {target}, outside the app's source; "
            "copy what it points at into the source, or declare the path under shared:"
        )
    remove(dest)  # a partial build a killed run left
    try:
        layer_key = deps_key(ctx, app, source)
        layer = ensure_deps(ctx, app, source, layer_key, log) if layer_key else None
        steps = _build_into(ctx, app, source, dest, log, layer)
        if ctx.stack.apps[app].docker:
            ensure_app_image(ctx, app, key, dest, log)
        mark = f"{DEPS_MARK}{layer.name}\n" if layer else ""  # what pruning must keep for it
        atomic_write(done, key + "\n" + mark)
    except BaseException as exc:  # no partial build stays to fill the disk or be mistaken
        remove(dest)
        full = isinstance(exc, OSError) and exc.errno == errno.ENOSPC
        if full or (isinstance(exc, (OSError, BuildError)) and NO_SPACE in str(exc)):
            raise BuildError(
                f"apps.{app}: no space left on the disk of {lay.builds} while building; free "
                f"some (df -h {lay.root}, deployflow cleanup) and deploy again"
            ) from None
        raise
    return BuildResult(app, key, str(dest), time.monotonic() - started, steps, False)


def _build_into(
    ctx: StackContext, app: str, source: Path, dest: Path, log: Log, layer: Path | None
) -> int:
    """Copy the source to `dest`, link the dependency layer, run the build steps there; the
    number of steps."""
    shared = [entry.rstrip("/") for entry in ctx.stack.apps[app].shared]
    copy_tree(source, dest, ignore=[*IGNORED, *shared])
    if layer is not None:
        link_deps(ctx, app, layer, dest)
    steps = rendered_steps(ctx, app)
    timeout = ctx.stack.apps[app].timeout
    for number, argv in enumerate(steps, start=1):
        log(f"{app}: step {number}/{len(steps)}: {' '.join(argv)}")
        command = Command.of(argv, cwd=dest, env=_step_env(ctx, app, dest), timeout=timeout)
        try:
            run(command, on_line=lambda line: log(f"{app}| {line}"), error=BuildError)
        except BuildError as exc:
            raise BuildError(f"apps.{app} build step {number} failed: {exc}") from None
    return len(steps)


def run_tests(ctx: StackContext, app: str, release_id: str, log: Log) -> int:
    """Run an app's `tests:` steps in its new release directory (configs in place; an app
    built into an image: in a container of the release's image), with its environment
    (pointed at a throwaway database when it declares `test_database`)."""
    steps = rendered_steps(ctx, app, tests=True)
    with test_database(ctx, app, app_environment(ctx, app, release_id), log) as env:
        for argv in steps:
            log(f"{app}: test {' '.join(argv)}")
            timeout = ctx.stack.apps[app].timeout
            command = app_command(ctx, app, release_id, argv, env, timeout, _secret(env))
            try:
                run(command, on_line=lambda line: log(f"{app}| {line}"), error=BuildError)
            except BuildError as exc:
                raise BuildError(f"apps.{app} tests failed: {exc}") from None
    return len(steps)


def _secret(env: dict[str, str]) -> tuple[str, ...]:
    """A database URL's password, masked wherever the command's output goes."""
    from urllib.parse import urlsplit

    found = []
    for value in env.values():
        if "://" in value:
            password = urlsplit(value).password
            if password:
                found.append(password)
    return tuple(found)
