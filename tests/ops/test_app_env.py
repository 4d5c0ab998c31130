"""The app's environment (`env_file`, a rendered config, under `env:`) reaches its hooks, its
tests and its service process; `test_database` gives the tests a throwaway SQLite file the
environment points at, removed after, the live database untouched: read back from the files
and from the service's /proc environ."""

from __future__ import annotations

import json
import sqlite3
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
    shared: [instance/]
    configs: [{template: env.j2, dest: .env, mode: "0600"}]
    env_file: .env
    env: {APP_MODE: "prod-{{ GREETING }}"}
    test_database: main
    tests: [["{{ sys.python }}", check_env.py, tests]]
    hooks: {before_start: [["{{ sys.python }}", check_env.py, hook]]}
    migrations: {database: main, dir: migrations}"""

CHECK = """\
import json, os, sqlite3, sys
path = os.environ["DB_PATH"]
seen = {k: os.environ.get(k) for k in ("APP_MODE", "DB_PATH", "DATABASE_URL", "API_TOKEN")}
open(f"seen-{sys.argv[1]}.json", "w").write(json.dumps(seen))
if sys.argv[1] == "tests":  # what a careless test suite does to the database it is given
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE wiped (x INT)")
    db.commit()
"""


@pytest.fixture
def base(tmp_path: Path) -> Iterator[Path]:
    write_tiny_stack(tmp_path, "opsenv", APP)
    text = (tmp_path / "deployflow.yaml").read_text()
    text = text.replace(
        'vars: {PORT: "', 'vars: {GREETING: hi, API_TOKEN: {secret: OPS_TOKEN}, PORT: "'
    )
    databases = "databases:\n  main: {engine: sqlite, path: web/instance/app.sqlite}\n"
    (tmp_path / "deployflow.yaml").write_text(text.replace("paths:", databases + "paths:"))
    (tmp_path / "env.j2").write_text(
        "DB_PATH={{ paths.shared }}/web/instance/app.sqlite\nAPI_TOKEN={{ API_TOKEN }}\n"
    )
    (tmp_path / "app" / "check_env.py").write_text(CHECK)
    (tmp_path / "app" / "migrations").mkdir()
    (tmp_path / "app" / "migrations" / "001.sql").write_text("CREATE TABLE posts (id INT);\n")
    yield tmp_path
    stop_everything(tmp_path / "root")


def test_hooks_tests_and_services_get_the_apps_environment(
    base: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPS_TOKEN", "tok-Secret-9")
    lines: list[str] = []
    ctx = load_stack(base / "deployflow.yaml", base / "root")
    summary = deploy(ctx, DeployOptions(), PlainRunner(lines.append))
    release = base / "root" / "releases" / summary["release"] / "web"
    live = str(base / "root" / "shared" / "web" / "instance" / "app.sqlite")

    hook = json.loads((release / "seen-hook.json").read_text())
    assert hook == {
        "APP_MODE": "prod-hi",
        "DB_PATH": live,
        "DATABASE_URL": None,
        "API_TOKEN": "tok-Secret-9",
    }
    tests = json.loads((release / "seen-tests.json").read_text())
    assert tests["DB_PATH"].startswith(live + ".test-") and tests["APP_MODE"] == "prod-hi"
    assert tests["DATABASE_URL"] == f"sqlite:///{tests['DB_PATH']}"
    assert not Path(tests["DB_PATH"]).exists()  # dropped after the tests
    with sqlite3.connect(live) as conn:  # the live database never saw the tests
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    assert "wiped" not in tables and "posts" in tables

    pid = json.loads((base / "root" / ".deployflow" / "run" / "web.pid").read_text())["pid"]
    environ = dict(
        item.split("=", 1)
        for item in Path(f"/proc/{pid}/environ").read_text().split("\0")
        if "=" in item
    )
    assert environ["APP_MODE"] == "prod-hi" and environ["DB_PATH"] == live
    assert environ["API_TOKEN"] == "tok-Secret-9"
    snapshot = (base / "root" / "releases" / summary["release"] / ".release.json").read_text()
    assert "tok-Secret-9" not in snapshot and "tok-Secret-9" not in "\n".join(lines)
