"""Recipes: the usual build steps of a project type, expanded to argv lists (data, not code)."""

from __future__ import annotations

from pathlib import Path

from deployflow.core.context import StackContext
from deployflow.core.stack import App

__all__ = ["RECIPES", "build_steps", "python_install", "rendered_steps"]

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
    # a virtualenv made by uv (seconds, against ~20 s for venv + pip); see python_install
    "python": [["{{ sys.python }}", "-m", "uv", "venv", "--quiet", ".venv"]],
    "go": [["go", "build", "-o", "bin/app", "./..."]],
    "static": [],
}


_UV_INSTALL = ["{{ sys.python }}", "-m", "uv", "pip", "install", "--quiet", "--python"]


def python_install(files: set[str]) -> list[list[str]]:
    """Install a Python app's dependencies: requirements.txt, else the project itself."""
    if "requirements.txt" in files:
        return [[*_UV_INSTALL, ".venv/bin/python", "-r", "requirements.txt"]]
    if "pyproject.toml" in files:
        return [[*_UV_INSTALL, ".venv/bin/python", "."]]
    return []


def build_steps(app: App, files: set[str] = frozenset()) -> list[list[str]]:
    """The argv lists that build `app`: its recipe's steps, then its own; `files` are the names
    at the top of its source (a recipe may depend on them)."""
    steps = []
    if app.recipe:
        steps = [list(step) for step in RECIPES[app.recipe]]
        if app.recipe == "python":
            steps += python_install(set(files))
    return steps + [list(step) for step in app.steps]


def _top_names(source: Path) -> set[str]:
    return {p.name for p in source.iterdir()} if source.is_dir() else set()


def rendered_steps(ctx: StackContext, app: str, tests: bool = False) -> list[list[str]]:
    """An app's build steps (or its `tests:` steps) with templates rendered."""
    spec = ctx.stack.apps[app]
    source = ctx.sources.get(app) or ctx.stack_dir / str(spec.source)
    steps = spec.tests if tests else build_steps(spec, _top_names(source))
    key = "tests" if tests else "steps"
    return [
        [ctx.render(arg, f"apps.{app}.{key}[{i}]") for arg in step] for i, step in enumerate(steps)
    ]
