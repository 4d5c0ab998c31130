"""Workers run as the target's declared user, never root unless asked: root starts the worker
of a target with `user: nobody`, which builds, runs the services and signs its backups as
nobody in a root it owns; root's own in-process run of that target is refused, and a target
naming no user gets no root worker. Needs root (to switch users), else skipped; where nobody
cannot run the suite's Python (a pyenv under /root), only the refusal of `server start` is
checked and the rest is skipped."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from deployflow.backends.signing import check_signature
from deployflow.errors import BackupError
from tests.e2e.conftest import Stack, stop_everything, until, write_tiny_stack

BUILT_BY = ('    steps: [["sh", "-c", "id -un > built-by"]]', "    shared: [data/]")

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="switching users needs root")


def _stack(base: Path, prefect_api: str, user: str) -> Stack:
    project = f"asuser{base.name[-6:].lower().replace('_', '')}"
    port = write_tiny_stack(base, project, "\n".join(BUILT_BY), f"user: {user}")
    env = {**os.environ, "PREFECT_API_URL": prefect_api, "DEPLOYFLOW_HOME": str(base / "home")}
    env.pop("DEPLOYFLOW_ROOT", None)
    env.pop("DEPLOYFLOW_WORKER_USER", None)
    s = Stack(base / "deployflow.yaml", base / "root", env)
    s.port = port  # type: ignore[attr-defined]
    return s


@pytest.fixture
def base() -> Iterator[Path]:
    """A dir nobody can reach (pytest's tmp dirs are 0700 root's)."""
    path = Path(tempfile.mkdtemp(prefix="deployflow-as-user-"))
    path.chmod(0o755)
    yield path
    stop_everything(path / "root")
    shutil.rmtree(path, ignore_errors=True)


def test_the_worker_runs_as_the_declared_user(base: Path, prefect_api: str) -> None:
    s = _stack(base, prefect_api, "nobody")
    refused = s.cli("run", "full", check=False)  # in-process as root: refused, nothing made
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert "runs as nobody, not root" in refused.stderr
    assert not (s.root / "current").exists()

    s.cli("deployments", "apply")
    if not _reachable(sys.executable, "nobody"):
        proc = s.cli("server", "start", check=False)  # refused in one line, before it starts
        assert proc.returncode == 1 and "nobody cannot run deployflow's Python" in proc.stderr
        pytest.skip(f"nobody cannot run {Path(sys.executable).resolve()} on this machine")
    try:
        s.cli("server", "start")
        state = json.loads((base / "home" / "workers" / f"{_pool(s)}.json").read_text())
        worker = psutil.Process(state["pid"])
        assert worker.username() == "nobody" and state["user"] == "nobody"
        assert s.root.stat().st_uid == worker.uids().real
        log = base / "home" / "workers" / f"{_pool(s)}.log"
        until(lambda: "is warm" in log.read_text())

        done = s.cli("run", "full")
        assert "on the warm worker" in done.stderr
        web = s.root / "current" / "web"
        assert (web / "built-by").read_text().strip() == "nobody"  # the build step's user
        assert httpx.get(f"http://127.0.0.1:{s.port}/", timeout=5).text.strip() == "nobody"
        pid = json.loads((s.root / ".deployflow" / "run" / "web.pid").read_text())["pid"]
        assert psutil.Process(pid).username() == "nobody"  # the service's user
        owners = {p.stat().st_uid for p in (s.root / "releases").rglob("*")}
        assert owners == {worker.uids().real}

        s.cli("run", "full")  # a second release backs up the first: signed by nobody's key
        backups = sorted((s.root / "backups").iterdir())
        assert backups, "no backup made"
        assert (backups[-1] / "signature").read_text().split()[1:] == ["nobody"]
        key = base / "home" / "backup-signing.nobody.key"
        assert key.stat().st_uid == worker.uids().real and key.stat().st_mode & 0o777 == 0o600
        saved = os.environ.get("DEPLOYFLOW_HOME")
        os.environ["DEPLOYFLOW_HOME"] = str(base / "home")  # root checks it with that key
        try:
            check_signature(backups[-1])
            (backups[-1] / "metadata.json").write_text("{}")
            with pytest.raises(BackupError, match="signature does not match"):
                check_signature(backups[-1])
        finally:
            os.environ.pop("DEPLOYFLOW_HOME")
            if saved is not None:
                os.environ["DEPLOYFLOW_HOME"] = saved
    finally:
        s.cli("server", "stop", check=False)


def test_no_root_worker_unless_asked(base: Path, prefect_api: str) -> None:
    s = _stack(base, prefect_api, "null")
    s.file.write_text(s.file.read_text().replace(", user: null", ""))
    s.cli("deployments", "apply")
    proc = s.cli("server", "start", check=False)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "names no user" in proc.stderr and "targets.local.user" in proc.stderr
    assert not (base / "home" / "workers" / f"{_pool(s)}.json").exists()

    asked = s.cli_env(
        {**s.env, "DEPLOYFLOW_WORKER_USER": "no-such-user"}, "server", "start", check=False
    )
    assert asked.returncode == 2 and "user 'no-such-user' does not exist" in asked.stderr


def _reachable(python: str, user: str) -> bool:
    probe = subprocess.run(["runuser", "-u", user, "--", python, "-c", ""], capture_output=True)
    return probe.returncode == 0


def _pool(s: Stack) -> str:
    return f"{s.file.read_text().split()[1]}-local"
