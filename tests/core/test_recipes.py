"""Recipes as data: `recipe: python` is a dependency layer keyed on the lock files, with the
extras, groups and added packages `python:` asks for, and never the project itself."""

from __future__ import annotations

import pytest

from deployflow.core.recipes import app_deps, build_steps, python_deps
from deployflow.core.stack import App, Deps
from deployflow.errors import ConfigError


def _app(**python: list[str]) -> App:
    return App.model_validate({"source": "x", "recipe": "python", "python": python or None})


def test_uv_lock_is_synced_frozen_without_the_project() -> None:
    deps = python_deps(_app(extras=["test"], groups=["dev"]), {"pyproject.toml", "uv.lock"})
    assert deps.inputs == ["pyproject.toml", "uv.lock"] and deps.paths == [".venv"]
    sync = ["uv", "sync", "--frozen", "--no-install-project", "--quiet"]
    assert deps.steps[0][2:] == [*sync, "--extra", "test", "--group", "dev"]


def test_declared_dependencies_then_with() -> None:
    deps = python_deps(_app(**{"with": ["waitress"]}), {"requirements.txt", "pyproject.toml"})
    assert deps.inputs == ["requirements.txt"]
    assert deps.steps[1][-2:] == ["-r", "requirements.txt"] and deps.steps[2][-1] == "waitress"
    project = python_deps(_app(extras=["test"]), {"pyproject.toml"})
    assert project.steps[1][-4:] == ["-r", "pyproject.toml", "--extra", "test"]
    assert all("." not in step[-1:] for step in project.steps)  # never `install .`


def test_nothing_declared_is_an_empty_venv_and_bad_asks_are_one_line() -> None:
    bare = _app(**{"with": ["gunicorn"]})
    assert app_deps(bare, set()) is None
    assert [step[3] for step in build_steps(bare, set())] == ["venv", "pip"]
    with pytest.raises(ConfigError, match=r"apps\.web\.python\.groups needs a pyproject\.toml"):
        python_deps(_app(groups=["dev"]), {"requirements.txt"}, "web")
    with pytest.raises(ConfigError, match=r"list what the extra adds in python\.with"):
        python_deps(_app(extras=["test"]), {"requirements.txt"}, "web")


def test_an_apps_own_deps_win_and_python_needs_the_recipe() -> None:
    own = Deps(inputs=["req.in"], steps=[["make", "venv"]], paths=[".venv"])
    app = App.model_validate({"source": "x", "recipe": "python", "deps": own.model_dump()})
    assert app_deps(app, {"requirements.txt"}) == own
    with pytest.raises(ValueError, match=r"add recipe: python"):
        App.model_validate({"source": "x", "python": {"extras": ["test"]}})
