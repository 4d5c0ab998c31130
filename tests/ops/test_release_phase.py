"""The release phase on a SQLite app with its own migration tool (shaped like Alembic: `up`,
`current`, `down REV`): release commands offline and online, the version each release records,
`down:` on a failed deploy and on a rollback, and an honest Data line when nothing takes the
data back. Read back from the database file and the service's pid."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from deployflow.errors import DATA_NOT_RESTORED, DeployFailed
from deployflow.loading import load_stack
from deployflow.ops.deploy import deploy
from deployflow.ops.deployrun import DeployOptions
from deployflow.ops.rollback import rollback
from deployflow.ops.runner import PlainRunner
from tests.e2e.conftest import stop_everything
from tests.tinystack import write_tiny_stack

APP = """\
    shared: [instance/]
    configs: [{template: env.j2, dest: .env}]
    env_file: .env
    release: [["{{ sys.python }}", migrate.py, up]]
    version: ["{{ sys.python }}", migrate.py, current]"""

TOOL = """\
import os, pathlib, sqlite3, sys
db = sqlite3.connect(os.environ["DB_PATH"])
db.execute("CREATE TABLE IF NOT EXISTS schema_version (v TEXT)")
row = db.execute("SELECT v FROM schema_version").fetchone()
current = row[0] if row else "000"
revs = sorted(p.stem for p in pathlib.Path("revs").glob("*.sql"))
if sys.argv[1] == "current":
    print(current)
    sys.exit()
if sys.argv[1] == "up":
    for rev in [r for r in revs if r > current]:
        db.executescript(pathlib.Path(f"revs/{rev}.sql").read_text())
        current = rev
else:
    for rev in [r for r in reversed(revs) if sys.argv[2] < r <= current]:
        db.executescript(pathlib.Path(f"downs/{rev}.sql").read_text())
    current = sys.argv[2]
db.execute("DELETE FROM schema_version")
db.execute("INSERT INTO schema_version VALUES (?)", (current,))
db.commit()
"""


class App:
    def __init__(self, base: Path) -> None:
        self.base = base
        self.lines: list[str] = []
        write_tiny_stack(base, "relphase", APP)
        text = (base / "deployflow.yaml").read_text()
        text = text.replace("verify: {deadline: 5,", "verify: {deadline: 1,")
        (base / "deployflow.yaml").write_text(text)
        (base / "env.j2").write_text("DB_PATH={{ paths.shared }}/web/instance/app.sqlite\n")
        app = base / "app"
        (app / "migrate.py").write_text(TOOL)
        (app / "revs").mkdir()
        (app / "downs").mkdir()
        self.revision("001", "CREATE TABLE posts (id INT);", "DROP TABLE posts;")

    def revision(self, rev: str, up: str, down: str) -> None:
        (self.base / "app" / "revs" / f"{rev}.sql").write_text(up + "\n")
        (self.base / "app" / "downs" / f"{rev}.sql").write_text(down + "\n")

    def edit(self, old: str, new: str) -> None:
        path = self.base / "deployflow.yaml"
        path.write_text(path.read_text().replace(old, new))

    def deploy(self, version: str) -> dict:
        (self.base / "app" / "VERSION").write_text(version + "\n")
        ctx = load_stack(self.base / "deployflow.yaml", self.base / "root")
        return deploy(ctx, DeployOptions(), PlainRunner(self.lines.append))

    def failing(self, version: str) -> DeployFailed:
        with pytest.raises(DeployFailed) as failed:
            self.deploy(version)
        return failed.value

    def tables(self) -> set[str]:
        file = self.base / "root" / "shared" / "web" / "instance" / "app.sqlite"
        with sqlite3.connect(file) as conn:
            return {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}

    def recorded(self, release: str) -> dict:
        path = self.base / "root" / ".deployflow" / "schemas" / f"{release}.json"
        return json.loads(path.read_text())["versions"]

    def pid(self) -> int:
        path = self.base / "root" / ".deployflow" / "run" / "web.pid"
        return json.loads(path.read_text())["pid"]


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    yield App(tmp_path)
    stop_everything(tmp_path / "root")


def test_offline_release_version_and_down(app: App) -> None:
    app.edit(
        "    version:",
        '    down: [["{{ sys.python }}", migrate.py, down, "{{ target.version }}"]]\n    version:',
    )
    v1 = app.deploy("v1")["release"]
    assert app.recorded(v1) == {"web": "001"} and "posts" in app.tables()

    # migrated, then it fails to verify: down: takes the schema back before v1 restarts
    app.revision("002", "CREATE TABLE tags (id INT);", "DROP TABLE tags;")
    failed = app.failing("broken")
    assert failed.summary["result"] == "rolled back" and failed.exit_code == 1
    assert failed.summary["data"] == "restored by down: web back to version 001"
    assert "tags" not in app.tables()

    v2 = app.deploy("v2")["release"]
    assert app.recorded(v2) == {"web": "002"} and "tags" in app.tables()

    # migrated by hand behind deployflow's back: the next deploy warns, and stops without --force
    app.revision("003", "CREATE TABLE notes (id INT);", "DROP TABLE notes;")
    tool = [sys.executable, "migrate.py", "up"]
    env = {"DB_PATH": str(app.base / "root" / "shared" / "web" / "instance" / "app.sqlite")}
    subprocess.run(tool, cwd=app.base / "app", env=env, check=True)
    drift = app.failing("v3")
    assert "schema version web: the database is at 003, but release" in drift.summary["error"]
    subprocess.run([*tool[:2], "down", "002"], cwd=app.base / "app", env=env, check=True)
    (app.base / "app" / "revs" / "003.sql").unlink()
    ctx = load_stack(app.base / "deployflow.yaml", app.base / "root")
    back = rollback(ctx, None, PlainRunner(app.lines.append))
    assert back["live"] == v1 and "tags" not in app.tables()
    assert "schema taken back by down: (web to version 001)" in back["data"]


def test_online_release_runs_while_the_old_release_serves(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    app.edit("    release:", "    migrate: online\n    release:")
    app.edit(
        "paths:", "databases:\n  main: {engine: sqlite, path: web/instance/app.sqlite}\npaths:"
    )
    app.deploy("v1")
    serving = app.pid()
    app.revision("002", "CREATE TABLE tags (id INT);", "DROP TABLE tags;")
    monkeypatch.setenv("DEPLOYFLOW_FAILPOINTS", "release=exit")  # the fault suite's stage fault
    failed = app.failing("v2")
    assert "failpoint release" in failed.summary["error"] and app.pid() == serving
    assert failed.summary["data"] == "unchanged (the deploy stopped before its migrations)"
    monkeypatch.delenv("DEPLOYFLOW_FAILPOINTS")
    app.revision("002", "THIS IS NOT SQL; CREATE TABLE tags (id INT);", "DROP TABLE tags;")
    failed = app.failing("v2")  # its release command fails: nothing live was touched
    assert "release command 1 failed" in failed.summary["error"]
    assert app.pid() == serving  # never stopped
    assert failed.summary["result"] == "failed" and failed.exit_code == 1
    assert failed.summary["data"] == "unchanged (checked by schema fingerprint)"

    # an online migration that works, then the release fails to verify, with no down:
    app.revision("002", "CREATE TABLE tags (id INT);", "DROP TABLE tags;")
    failed = app.failing("broken")
    assert failed.summary["result"] == "rolled back, data NOT restored"
    assert failed.exit_code == DATA_NOT_RESTORED
    assert failed.summary["data"] == (
        "changed and NOT restored: apps.web moved from version 001 to 002, no down:"
    )
    assert "tags" in app.tables() and app.pid() != serving
    release = next(i for i, line in enumerate(app.lines) if "web: release command 1/1" in line)
    stopped = next(i for i, line in enumerate(app.lines) if i > release and "stop" in line)
    assert release < stopped  # migrated before the old release stopped
