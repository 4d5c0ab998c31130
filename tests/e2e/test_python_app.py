"""A third-party-shaped app (examples/notes): Flask served by waitress from its own virtualenv
(built by the python recipe with uv), a SQLite file in a shared dir, a CLI migration hook, its
own pytest suite as the test stage, and a websockets echo server. Deployed, changed, broken and
rolled back; the defects a real app hit are its test cases."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conftest import REPO, free_port
from tests.e2e.conftest import stop_everything


@dataclass
class Notes:
    dir: Path
    root: Path
    env: dict[str, str]
    port: int

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "deployflow",
                *args,
                "--stack",
                str(self.dir / "deployflow.yaml"),
            ],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if check and proc.returncode != 0:
            raise AssertionError(f"{args} exited {proc.returncode}:\n{proc.stderr[-3000:]}")
        return proc

    def deploy(self, *args: str, check: bool = True) -> dict:
        proc = self.cli("run", "full", "--json", *args, check=check)
        return json.loads(proc.stdout)

    def health(self) -> dict:
        return httpx.get(f"http://127.0.0.1:{self.port}/health", timeout=5).json()

    def pids(self) -> dict[str, int]:
        rows = json.loads(self.cli("services", "status", "--json").stdout)
        return {r["name"]: r["pid"] for r in rows}

    def current(self) -> str:
        return os.readlink(self.root / "current").split("/")[-1]

    def edit(self, rel: str, old: str, new: str) -> None:
        path = self.dir / rel
        text = path.read_text()
        assert old in text, old
        path.write_text(text.replace(old, new))


@pytest.fixture
def notes(tmp_path: Path, prefect_api: str) -> Iterator[Notes]:
    stack_dir = tmp_path / "notes"
    shutil.copytree(REPO / "examples" / "notes", stack_dir)
    port, echo = free_port(), free_port()
    stack = stack_dir / "deployflow.yaml"
    stack.write_text(
        stack.read_text()
        .replace("WEB_PORT: 18500", f"WEB_PORT: {port}")
        .replace("ECHO_PORT: 18501", f"ECHO_PORT: {echo}")
    )
    env = {**os.environ, "PREFECT_API_URL": prefect_api, "DEPLOYFLOW_ROOT": str(tmp_path / "root")}
    n = Notes(stack_dir, tmp_path / "root", env, port)
    yield n
    stop_everything(n.root)


def test_python_app_deployed_changed_broken_and_rolled_back(notes: Notes) -> None:
    # v1: venv built with uv, migration hook ran, release id rendered into the app's .env
    v1 = notes.deploy()["release"]
    assert notes.health() == {
        "status": "ok",
        "release": v1,
        "version": "1.0.0",
        "greeting": "hello",
        "notes": 0,
    }
    httpx.post(f"http://127.0.0.1:{notes.port}/notes", json={"body": "first"}).raise_for_status()
    assert (notes.root / "shared" / "web" / "instance" / "notes.sqlite").is_file()
    shebang = (notes.root / "current" / "web" / ".venv" / "bin" / "waitress-serve").read_text()
    # the build dir, not a release (a long path gets a /bin/sh trampoline naming it instead)
    assert any(f"{notes.root}/builds/web/" in line for line in shebang.splitlines()[:3])
    pids = notes.pids()

    # its own tests fail: nothing live is touched (same pids, same release)
    (notes.dir / "apps" / "web" / "tests" / "test_broken.py").write_text(
        "def test_broken():\n    assert False\n"
    )
    summary = notes.deploy(check=False)
    assert summary["result"] == "failed" and "apps.web tests failed" in summary["error"]
    assert notes.pids() == pids and notes.current() == v1
    (notes.dir / "apps" / "web" / "tests" / "test_broken.py").unlink()

    # a service that dies at start fails the start stage at once, with its own last words
    notes.edit("deployflow.yaml", "--call notes:create_app", "--call notes:no_such_app")
    summary = notes.deploy(check=False)
    start = next(s for s in summary["stages"] if s["name"] == "start")
    assert "exited at once" in start["detail"] and "no_such_app" in start["detail"]
    assert start["seconds"] < 10  # not the 30 s start deadline
    assert summary["result"] == "rolled back" and notes.health()["release"] == v1
    notes.edit("deployflow.yaml", "--call notes:no_such_app", "--call notes:create_app")

    # a config-only change is a new release: the web restarts, the echo server does not
    notes.edit("deployflow.yaml", "GREETING: hello", "GREETING: bonjour")
    out = notes.cli("config", "sync").stdout
    v2 = notes.current()
    assert "config release" in out and v2 != v1
    assert notes.health()["greeting"] == "bonjour" and notes.health()["notes"] == 1
    after = notes.pids()
    assert after["echo"] == pids["echo"] and after["web"] != pids["web"]

    # echo-only changes; keep_releases: 3 counts good releases only, so v1 goes, while v2 (which
    # the web still runs from) and the build its venv points at stay
    for n in (1, 2, 3):
        echo = notes.dir / "apps" / "echo" / "echo.py"
        echo.write_text(echo.read_text() + f"\n# change {n}\n")
        assert notes.deploy()["result"] == "success"
    releases = {p.name for p in (notes.root / "releases").iterdir()}
    assert v1 not in releases and v2 in releases
    assert os.readlink(notes.root / "current" / "web") == f"../{v2}/web"
    notes.cli("services", "restart", "web")  # entry points still valid: their build is kept
    assert notes.health()["release"] == v2

    # rollback by hand, and a bogus id refused before any flow run starts
    refused = notes.cli("rollback", "--to", "bogus", check=False)
    assert refused.returncode == 1 and "not on disk" in refused.stderr
    assert "Flow run" not in refused.stderr
    notes.cli("rollback")
    assert notes.health()["notes"] == 1  # the SQLite file lives across releases
