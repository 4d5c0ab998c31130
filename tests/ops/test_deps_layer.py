"""Builds keyed on what they depend on: an app's `deps:` layer (a real virtualenv made by uv) is
built once per content of its inputs and linked into each build; a code-only change reuses it,
a changed requirements file makes a new one, and pruning never removes the one a kept release
links. Read back from the release tree and the deploy's log."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from deployflow.loading import load_stack
from deployflow.ops.deploy import deploy
from deployflow.ops.deployrun import DeployOptions
from deployflow.ops.runner import PlainRunner
from tests.e2e.conftest import stop_everything
from tests.tinystack import write_tiny_stack

APP = """\
    deps:
      inputs: [requirements.txt]
      steps:
        - ["{{ sys.python }}", -m, uv, venv, --quiet, .venv]
        - [sh, -c, "cp requirements.txt .venv/installed.txt"]
      paths: [.venv]"""


@pytest.fixture
def base(tmp_path: Path) -> Iterator[Path]:
    write_tiny_stack(tmp_path, "depslayer", APP)
    (tmp_path / "app" / "requirements.txt").write_text("flask==3.0\n")
    text = (tmp_path / "deployflow.yaml").read_text()
    (tmp_path / "deployflow.yaml").write_text(
        text.replace("paths: {root: ./root}", "paths: {root: ./root, keep_releases: 2}")
    )
    yield tmp_path
    stop_everything(tmp_path / "root")


def _deploy(base: Path, version: str, lines: list[str]) -> Path:
    (base / "app" / "VERSION").write_text(version + "\n")
    ctx = load_stack(base / "deployflow.yaml", base / "root")
    release = deploy(ctx, DeployOptions(), PlainRunner(lines.append))["release"]
    return base / "root" / "releases" / release / "web"


def test_a_code_change_reuses_the_dependency_layer(base: Path) -> None:
    lines: list[str] = []
    first = _deploy(base, "v1", lines)
    venv = first / ".venv"
    layer = venv.resolve()
    assert venv.is_symlink() and layer.parent.name.startswith("deps-")
    assert (venv / "installed.txt").read_text() == "flask==3.0\n" and (
        venv / "bin" / "python"
    ).exists()
    assert any("dependencies step 1/2" in line for line in lines)

    lines.clear()
    second = _deploy(base, "v2", lines)  # code only
    assert (second / ".venv").resolve() == layer
    assert any("dependencies" in line and "reused" in line for line in lines)
    assert not any("dependencies step" in line for line in lines)

    (base / "app" / "requirements.txt").write_text("flask==3.1\n")
    third = _deploy(base, "v3", lines)
    assert (third / ".venv").resolve() != layer
    assert (third / ".venv" / "installed.txt").read_text() == "flask==3.1\n"

    _deploy(base, "v4", lines)  # keep_releases 2: v1 and v2 go, and their layer with them
    live = (base / "root" / "current").resolve() / "web" / ".venv"
    assert live.resolve().is_dir() and not layer.exists()


PYPROJECT = """\
[project]
name = "shop"
version = "1.0"
dependencies = []

[project.optional-dependencies]
test = ["iniconfig"]
"""
PYTHON_APP = """\
    recipe: python
    python: {extras: [test], with: [six]}
    steps:
      - [.venv/bin/python, check.py]"""
CHECK = "import iniconfig, six, shop\nopen('built-by', 'w').write(shop.__file__)\n"


def test_recipe_python_keys_its_venv_on_pyproject_and_leaves_the_project_out(
    tmp_path: Path,
) -> None:
    """`recipe: python` with `python: {extras, with}` (packages from the index): the extra and
    the added server are in the .venv, the project's own code is imported from the release,
    never from site-packages, and a code-only change reuses the .venv."""
    write_tiny_stack(tmp_path, "recipepy", PYTHON_APP)
    (tmp_path / "app" / "pyproject.toml").write_text(PYPROJECT)
    (tmp_path / "app" / "check.py").write_text(CHECK)
    (tmp_path / "app" / "shop").mkdir()
    (tmp_path / "app" / "shop" / "__init__.py").write_text("")
    try:
        lines: list[str] = []
        first = _deploy(tmp_path, "v1", lines)
        imported = (first / "built-by").read_text()  # by the build step, in its build dir
        assert "/builds/web/" in imported and ".venv" not in imported
        site = next((first / ".venv" / "lib").glob("python*/site-packages"))
        assert not list(site.glob("shop*")) and list(site.glob("iniconfig*"))
        assert any("uv pip install" in line and "--extra test" in line for line in lines)
        lines.clear()
        second = _deploy(tmp_path, "v2", lines)
        assert (second / ".venv").resolve() == (first / ".venv").resolve()
        assert any("reused" in line for line in lines)
    finally:
        stop_everything(tmp_path / "root")
