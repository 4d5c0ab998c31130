"""Recipes: the usual build steps of a project type, expanded to argv lists (data, not code).
`recipe: python` builds a dependency layer (a .venv keyed on the lock files) instead of steps."""

from __future__ import annotations

from deployflow.core.stack import App, Deps
from deployflow.errors import ConfigError

__all__ = ["RECIPES", "app_deps", "build_steps", "python_deps"]

RECIPES: dict[str, list[list[str]]] = {
    "laravel": [
        [
            "composer",
            "install",
            "--no-dev",
            "--prefer-dist",
            "--no-interaction",
            "--optimize-autoloader",
        ],
        ["php", "artisan", "config:cache"],
        ["php", "artisan", "route:cache"],
        ["php", "artisan", "view:cache"],
    ],
    "nuxt": [["npm", "ci"], ["npm", "run", "build"]],
    "flutter": [["flutter", "pub", "get"], ["flutter", "build", "web", "--release"]],
    "node": [["npm", "ci", "--omit=dev"], ["npm", "run", "build", "--if-present"]],
    "python": [],  # its virtualenv is a dependency layer: python_deps
    "go": [["go", "build", "-o", "bin/app", "./..."]],
    "static": [],
}

PY = "{{ sys.python }}"
VENV_PY = ".venv/bin/python"
# virtualenvs made by uv (seconds, against ~20 s for venv + pip)
UV_VENV = [PY, "-m", "uv", "venv", "--quiet", ".venv"]
UV_PIP = [PY, "-m", "uv", "pip", "install", "--quiet", "--python", VENV_PY]


def _selected(app: App, name: str, where: str) -> list[str]:
    build = app.python
    if build is None:
        return []
    if build.groups and where != "pyproject.toml":
        raise ConfigError(
            f"apps.{name}.python.groups needs a pyproject.toml with [dependency-groups]; "
            f"this app has {where}"
        )
    if build.extras and where == "requirements.txt":
        raise ConfigError(
            f"apps.{name}.python.extras needs a pyproject.toml (or setup.py) declaring them; "
            "this app has requirements.txt: list what the extra adds in python.with instead"
        )
    return [a for e in build.extras for a in ("--extra", e)] + [
        a for g in build.groups for a in ("--group", g)
    ]


def python_deps(app: App, files: set[str], name: str = "app") -> Deps | None:
    """`recipe: python`'s dependency layer: `uv sync --frozen --no-install-project` from
    uv.lock, else the dependencies requirements.txt, pyproject.toml or setup.py declare (the
    project itself never goes into site-packages), then `python.with`."""
    extra = list(app.python.with_) if app.python else []
    if {"pyproject.toml", "uv.lock"} <= files:
        inputs = ["pyproject.toml", "uv.lock"]
        sync = [PY, "-m", "uv", "sync", "--frozen", "--no-install-project", "--quiet"]
        steps = [sync + _selected(app, name, "pyproject.toml")]
    else:
        markers = ("requirements.txt", "pyproject.toml", "setup.py")
        marker = next((f for f in markers if f in files), None)
        if marker is None:
            return None
        inputs = [marker]
        steps = [list(UV_VENV), [*UV_PIP, "-r", marker, *_selected(app, name, marker)]]
    if extra:
        steps.append([*UV_PIP, *extra])
    return Deps(inputs=inputs, steps=steps, paths=[".venv"])


def app_deps(app: App, files: set[str], name: str = "app") -> Deps | None:
    """The app's dependency layer: its own `deps:`, else its recipe's (python), else none."""
    if app.deps is not None or app.recipe != "python":
        return app.deps
    return python_deps(app, files, name)


def build_steps(app: App, files: set[str] = frozenset()) -> list[list[str]]:
    """The argv lists that build `app`: its recipe's steps, then its own; `files` are the names
    at the top of its source (a recipe may depend on them)."""
    steps = []
    if app.recipe:
        steps = [list(step) for step in RECIPES[app.recipe]]
        if app.recipe == "python" and app_deps(app, set(files)) is None:
            steps = [list(UV_VENV)]  # nothing declared: an empty virtualenv
            if app.python and app.python.with_:
                steps.append([*UV_PIP, *app.python.with_])
    return steps + [list(step) for step in app.steps]
