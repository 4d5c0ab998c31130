"""An app's dependency layer (`deps:`): its `inputs` (lock files) copied into
`builds/<app>/deps-<key>/`, its `steps` run there once per content of those inputs, and its
`paths` (`.venv`, `node_modules`) linked into every build of the app that has the same inputs.
A code-only change then copies the code and links the layer: no reinstall. (A virtualenv's
absolute paths stay valid: the layer never moves.)"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from deployflow.backends.executor import Command, run
from deployflow.backends.files import atomic_write, replace_with_link
from deployflow.backends.treeops import copy_file, fresh_dir, remove, top_names
from deployflow.core.context import StackContext
from deployflow.core.recipes import app_deps
from deployflow.core.stack import Deps
from deployflow.errors import BuildError
from deployflow.stages import Log

__all__ = ["DEPS_MARK", "deps_key", "ensure_deps", "layer_spec", "link_deps"]

DEPS_MARK = "deps "  # the line of a build's .done file naming the layer it links


def layer_spec(ctx: StackContext, app: str, source: Path) -> Deps | None:
    """The app's layer: its `deps:`, or the one its recipe makes from the files in `source`."""
    return app_deps(ctx.stack.apps[app], top_names(source), app)


def _steps(ctx: StackContext, app: str, deps: Deps) -> list[list[str]]:
    return [
        [ctx.render(arg, f"apps.{app}.deps.steps[{i}]") for arg in step]
        for i, step in enumerate(deps.steps)
    ]


def deps_key(ctx: StackContext, app: str, source: Path) -> str | None:
    """The layer's key: its inputs' contents and its rendered steps (None: no `deps:`)."""
    deps = layer_spec(ctx, app, source)
    if deps is None:
        return None
    contents = {}
    for rel in deps.inputs:
        path = source / rel
        contents[rel] = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None
    payload = json.dumps({"inputs": contents, "steps": _steps(ctx, app, deps)}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


def ensure_deps(ctx: StackContext, app: str, source: Path, key: str, log: Log) -> Path:
    """The layer for `key`, built now unless a finished one is there."""
    lay = ctx.layout
    name = f"deps-{key}"
    dest, done = lay.build_dir(app, name), lay.build_done(app, name)
    if done.is_file() and dest.is_dir():
        log(f"{app}: dependencies {key[:12]} reused (inputs unchanged)")
        return dest
    deps = layer_spec(ctx, app, source)
    assert deps is not None
    try:
        fresh_dir(dest)
        for rel in deps.inputs:
            if (source / rel).is_file():
                copy_file(source / rel, dest / rel)
        steps = _steps(ctx, app, deps)
        env = {"DEPLOYFLOW_APP": app, "DEPLOYFLOW_ROOT": str(ctx.root)}
        for number, argv in enumerate(steps, start=1):
            log(f"{app}: dependencies step {number}/{len(steps)}: {' '.join(argv)}")
            command = Command.of(argv, cwd=dest, env=env, timeout=ctx.stack.apps[app].timeout)
            try:
                run(command, on_line=lambda line: log(f"{app}| {line}"), error=BuildError)
            except BuildError as exc:
                raise BuildError(f"apps.{app} deps step {number} failed: {exc}") from None
        missing = [p for p in deps.paths if not (dest / p).exists()]
        if missing:
            raise BuildError(
                f"apps.{app}.deps.paths: {missing[0]} was not made by deps.steps; name what "
                "the steps create (.venv, node_modules)"
            )
        atomic_write(done, key + "\n")
    except BaseException:
        remove(dest)
        raise
    return dest


def link_deps(ctx: StackContext, app: str, layer: Path, build: Path) -> None:
    """Each of the layer's paths linked into the build (what the source had there goes)."""
    deps = layer_spec(ctx, app, build)
    assert deps is not None
    for rel in deps.paths:
        replace_with_link(build / rel, layer / rel)
