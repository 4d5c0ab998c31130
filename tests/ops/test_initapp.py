"""`deployflow init` as an operation: the stack written loads, the runtime an app asks for is
compared with the one here, and an existing stack file is never overwritten unasked."""

from __future__ import annotations

from pathlib import Path

import pytest

from deployflow.errors import UsageError
from deployflow.loading import load_stack
from deployflow.ops.initapp import init_stack
from tests.appshapes import write_shape


def test_init_writes_a_stack_that_loads_and_warns_about_runtimes(tmp_path: Path) -> None:
    write_shape(tmp_path / "api", "fastapi")
    write_shape(tmp_path / "web", "express")
    (tmp_path / "api" / ".python-version").write_text("3.99\n")
    stack = tmp_path / "deployflow.yaml"
    result = init_stack(stack, [tmp_path / "api", tmp_path / "web"])
    assert list(result["apps"]) == ["api", "web"]
    assert any("asks for 3.99" in w for w in result["apps"]["api"]["warnings"])
    ports = {a["port"] for a in result["apps"].values()}
    assert len(ports) == 2
    ctx = load_stack(stack, tmp_path / "root")
    assert ctx.stack.apps["api"].release == [
        [".venv/bin/python", "-m", "alembic", "upgrade", "head"]
    ]
    assert ctx.stack.apps["web"].deps and ctx.stack.apps["web"].deps.paths == ["node_modules"]
    before = stack.read_text()
    with pytest.raises(UsageError, match="exists and is yours"):
        init_stack(stack, [tmp_path / "api"])
    assert stack.read_text() == before
    init_stack(stack, [tmp_path / "api"], force=True)
    assert list(load_stack(stack, tmp_path / "root").stack.apps) == ["api"]


def test_init_docker_writes_dockerfiles_the_user_keeps(tmp_path: Path) -> None:
    write_shape(tmp_path / "shop", "flask")
    write_shape(tmp_path / "site", "static")
    (tmp_path / "site" / "Dockerfile").write_text("FROM mine:1\n")  # theirs stays
    stack = tmp_path / "deployflow.yaml"
    init_stack(stack, [tmp_path / "shop", tmp_path / "site"], docker=True)
    ctx = load_stack(stack, tmp_path / "root")
    assert ctx.stack.apps["shop"].docker is not None and ctx.stack.apps["shop"].recipe is None
    assert (
        ctx.stack.services["shop"].backend == "docker"
        and ctx.stack.services["shop"].command is None
    )
    written = (tmp_path / "shop" / "Dockerfile").read_text()
    assert written.splitlines()[1] == "FROM deployflow/debian:bookworm" and "waitress" in written
    assert (tmp_path / "site" / "Dockerfile").read_text() == "FROM mine:1\n"
