"""Recipes: the usual build steps of a project type, expanded to argv lists (data, not code)."""

from __future__ import annotations

from deployflow.core.context import StackContext
from deployflow.core.stack import App

__all__ = ["RECIPES", "build_steps", "rendered_steps"]

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
    "python": [
        ["python3", "-m", "venv", ".venv"],
        [".venv/bin/pip", "install", "-r", "requirements.txt"],
    ],
    "go": [["go", "build", "-o", "bin/app", "./..."]],
    "static": [],
}


def build_steps(app: App) -> list[list[str]]:
    """The argv lists that build `app`: its recipe's steps or its own."""
    if app.recipe:
        return [list(step) for step in RECIPES[app.recipe]]
    return [list(step) for step in app.steps]


def rendered_steps(ctx: StackContext, app: str, tests: bool = False) -> list[list[str]]:
    """An app's build steps (or its `tests:` steps) with templates rendered."""
    steps = ctx.stack.apps[app].tests if tests else build_steps(ctx.stack.apps[app])
    key = "tests" if tests else "steps"
    return [
        [ctx.render(arg, f"apps.{app}.{key}[{i}]") for arg in step] for i, step in enumerate(steps)
    ]
