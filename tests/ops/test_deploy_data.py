"""The report's Data line after a failed deploy, read back from the database (a SQLite file):
restored from the pre-deploy dump, unchanged, or changed and NOT restored, which is its own
outcome with exit code 3, never plain "rolled back"."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from deployflow.errors import DATA_NOT_RESTORED, DeployFailed
from deployflow.loading import load_stack
from deployflow.ops.deploy import deploy
from deployflow.ops.deployrun import DeployOptions
from deployflow.ops.runner import PlainRunner
from tests.e2e.conftest import stop_everything
from tests.tinystack import write_tiny_stack

APP = """\
    shared: [instance/]
    migrations: {database: main, dir: migrations}"""


@pytest.fixture
def base(tmp_path: Path) -> Iterator[Path]:
    write_tiny_stack(tmp_path, "opsdata", APP)
    text = (tmp_path / "deployflow.yaml").read_text()
    databases = "databases:\n  main: {engine: sqlite, path: web/instance/app.sqlite}\n"
    text = text.replace("verify: {deadline: 5,", "verify: {deadline: 1,")  # "broken" fails fast
    (tmp_path / "deployflow.yaml").write_text(text.replace("paths:", databases + "paths:"))
    (tmp_path / "app" / "migrations").mkdir()
    (tmp_path / "app" / "migrations" / "001.sql").write_text("CREATE TABLE posts (id INT);\n")
    yield tmp_path
    stop_everything(tmp_path / "root")


def _deploy(base: Path, version: str) -> dict:
    (base / "app" / "VERSION").write_text(version + "\n")
    ctx = load_stack(base / "deployflow.yaml", base / "root")
    return deploy(ctx, DeployOptions(), PlainRunner(lambda _line: None))


def _tables(base: Path) -> list[str]:
    file = base / "root" / "shared" / "web" / "instance" / "app.sqlite"
    with sqlite3.connect(file) as conn:
        return [r[0] for r in conn.execute("SELECT name FROM sqlite_master ORDER BY 1")]


def _migrate_then_fail(base: Path) -> dict:
    (base / "app" / "migrations" / "002.sql").write_text("CREATE TABLE tags (id INT);\n")
    with pytest.raises(DeployFailed) as failed:
        _deploy(base, "broken")  # migrated, then its health check answers 500
    return failed.value


def test_changed_data_without_a_dump_is_its_own_outcome(base: Path) -> None:
    _deploy(base, "v1")
    error = _migrate_then_fail(base)
    summary = error.summary
    assert summary["result"] == "rolled back, data NOT restored"
    assert summary["data"].startswith("changed and NOT restored") and "main.tags" in summary["data"]
    assert error.exit_code == DATA_NOT_RESTORED and "tags" in _tables(base)


def test_with_a_dump_the_data_goes_back_and_says_so(base: Path) -> None:
    text = (base / "deployflow.yaml").read_text()
    (base / "deployflow.yaml").write_text(
        text.replace("paths:", "backup: {include: [configs, release, database]}\npaths:")
    )
    _deploy(base, "v1")
    error = _migrate_then_fail(base)
    assert error.summary["result"] == "rolled back" and error.exit_code == 1
    assert error.summary["data"].startswith("restored from backup ")
    assert "tags" not in _tables(base)
    (base / "app" / "migrations" / "002.sql").unlink()
    with pytest.raises(DeployFailed) as failed:
        _deploy(base, "broken")  # no migration ran: the dump matches, nothing to restore
    assert failed.value.summary["data"].startswith("unchanged (row counts and checksums match")
