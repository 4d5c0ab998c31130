"""End-to-end fixtures: one real Prefect API per session (the test harness), the example stack
deployed into a temp root by the real CLI in subprocesses, services stopped afterwards."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from deployflow.core.envfile import parse_env
from tests.tinystack import write_tiny_stack

__all__ = ["write_tiny_stack"]

collect_ignore_glob = ["apps/*"]  # apps the tests deploy, with test suites of their own


@pytest.fixture(scope="session")
def pg_server() -> Iterator[tuple[str, int]]:
    """One throwaway PostgreSQL for the session (password logins over TCP): it holds the Prefect
    server's database and the apps' PostgreSQL databases, each test's under its own names."""
    from tests.e2e.pgserver import postgres

    with postgres() as db:
        yield db


class Engine:
    """The session's Docker engine: deployflow's own dockerd on a temp home (its data-root, and
    the base image debootstrap makes once); tests reach it through DOCKER_HOST."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.url = ""

    def _at_home(self, fn):
        saved = os.environ.get("DEPLOYFLOW_HOME")
        os.environ["DEPLOYFLOW_HOME"] = str(self.home)
        saved_host = os.environ.pop("DOCKER_HOST", None)
        try:
            return fn()
        finally:
            if saved is None:
                os.environ.pop("DEPLOYFLOW_HOME", None)
            else:
                os.environ["DEPLOYFLOW_HOME"] = saved
            if saved_host is not None:
                os.environ["DOCKER_HOST"] = saved_host

    def start(self) -> None:
        from deployflow.backends.dockerd import engine_url, start_engine

        self.url = self._at_home(lambda: (start_engine(lambda _m: None), engine_url())[1])

    def stop(self) -> None:
        from deployflow.backends.dockerd import stop_engine

        self._at_home(stop_engine)

    def kill(self) -> None:
        """SIGKILL dockerd (a crash): its containers die with it or stay orphaned."""
        from deployflow.backends.daemons import read_state

        _state, pid = self._at_home(lambda: read_state(self.home / "docker" / "engine.json"))
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        until(lambda: not _alive(pid), timeout=30)


def _alive(pid: int) -> bool:
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


@pytest.fixture(scope="session")
def docker_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """One engine for the session; skipped, saying why, where none can start."""
    from deployflow.errors import DeployflowError

    engine = Engine(tmp_path_factory.mktemp("dockerhome"))
    try:
        engine.start()
    except DeployflowError as exc:
        pytest.skip(f"no Docker engine can start here: {exc}")
    yield engine
    engine.stop()


@pytest.fixture
def engine(docker_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Engine:
    """The session's engine as this test's DOCKER_HOST (and its subprocesses')."""
    monkeypatch.setenv("DOCKER_HOST", docker_engine.url)
    return docker_engine


@pytest.fixture(scope="session")
def prefect_api(
    pg_server: tuple[str, int], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """One real Prefect server for the session, on the throwaway PostgreSQL: Prefect's SQLite
    server stalls ("database is locked") and once went silent under the suite's workers."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from tests.e2e.pgserver import prefect_server

    home = tmp_path_factory.mktemp("prefect-server-home")
    with prefect_server(pg_server, home) as (url, _port):
        os.environ["PREFECT_API_URL"] = url
        with temporary_settings({PREFECT_API_URL: url}):
            yield url
        os.environ.pop("PREFECT_API_URL", None)


@dataclass
class Stack:
    file: Path
    root: Path
    env: dict[str, str]

    @property
    def dir(self) -> Path:
        return self.file.parent

    def var(self, name: str) -> str:
        return parse_env((self.dir / "deployment.config.env").read_text())[name]

    def cli(
        self, *args: str, check: bool | None = True, stack: bool = True
    ) -> subprocess.CompletedProcess:
        tail = ["--stack", str(self.file)] if stack else []
        proc = subprocess.run(
            [sys.executable, "-m", "deployflow", *args, *tail],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if check and proc.returncode != 0:
            raise AssertionError(
                f"deployflow {' '.join(args)} exited {proc.returncode}:\n"
                f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
            )
        return proc

    def cli_env(
        self, env: dict[str, str], *args: str, check: bool = True
    ) -> subprocess.CompletedProcess:
        saved, self.env = self.env, env
        try:
            return self.cli(*args, check=check)
        finally:
            self.env = saved

    def popen(self, *args: str) -> subprocess.Popen:
        return self.popen_env(self.env, *args)

    def popen_env(self, env: dict[str, str], *args: str) -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "-m", "deployflow", *args, "--stack", str(self.file)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )

    def health(self) -> dict:
        url = f"http://127.0.0.1:{self.var('BACKEND_PORT')}/api/health"
        return httpx.get(url, timeout=5).json()

    def sql(self, query: str) -> list[tuple]:
        """One statement as the database's root (socket auth) in the app's database."""
        import pymysql

        sock = self.root / "shared" / "mysql" / "mysqld.sock"
        conn = pymysql.connect(
            unix_socket=str(sock), user="root", database=self.var("DB_DATABASE"), autocommit=True
        )
        try:
            with conn.cursor() as cur:
                cur.execute(query)
                return list(cur.fetchall())
        finally:
            conn.close()

    def releases(self) -> list[dict]:
        return json.loads(self.cli("releases", "--json").stdout)

    def current(self) -> str:
        return os.readlink(self.root / "current").split("/")[-1]

    def set_version(self, app: str, version: str) -> None:
        (self.dir / "apps" / app / "VERSION").write_text(version + "\n")

    def edit(self, old: str, new: str) -> None:
        text = self.file.read_text()
        assert old in text, old
        self.file.write_text(text.replace(old, new))


def new_stack(base: Path, prefect_api: str) -> Stack:
    """A private copy of the example stack under `base`, deploying into `base/root`."""
    from tests.conftest import EXAMPLE, write_ports

    shutil.copytree(EXAMPLE, base / "woosoo")
    write_ports(base / "woosoo")
    root = base / "root"
    env = {
        **os.environ,
        "PREFECT_API_URL": prefect_api,
        "DEPLOYFLOW_ROOT": str(root),
        "NO_COLOR": "1",
    }
    # a normal user's PATH: no sbin (where Debian puts mariadbd); deployflow must still find it
    env["PATH"] = ":".join(p for p in env["PATH"].split(":") if not p.endswith("sbin"))
    s = Stack(base / "woosoo" / "deployflow.yaml", root, env)
    s.edit("verify: {deadline: 30, interval: 0.25}", "verify: {deadline: 8, interval: 0.25}")
    return s


@pytest.fixture
def stack(tmp_path: Path, prefect_api: str) -> Iterator[Stack]:
    s = new_stack(tmp_path, prefect_api)
    yield s
    stop_everything(s.root)


def until(check, timeout: float = 120, poll: float = 0.1, what: str = ""):
    """Wait until `check()` gives something truthy (returned), or fail after `timeout` s saying
    `what` was awaited. A check may assert on its own (a process that must still run, say)."""
    ends = time.monotonic() + timeout
    while not (found := check()):
        assert time.monotonic() < ends, f"timed out after {timeout:g} s" + (what and f": {what}")
        time.sleep(poll)
    return found


def stop_everything(root: Path) -> None:
    """Stop every service a test started, from its pidfiles (works even if the stack broke)."""
    from deployflow.backends.services import ServiceSpec, get_backend

    for pid_file in sorted((root / ".deployflow" / "run").glob("*.pid")):
        spec = ServiceSpec(name=pid_file.stem, unit=pid_file.stem, pid_file=pid_file, stop_grace=10)
        get_backend("process").stop(spec)


def kill_at(stack: Stack, point: str, env: dict[str, str]) -> None:
    """Start `run full`, SIGKILL its process group once the journal says it is at `point`."""
    proc = stack.popen_env(env, "run", "full")
    journal = stack.root / ".deployflow" / "journal.json"
    ends = time.monotonic() + 120
    while time.monotonic() < ends:
        if journal.exists() and f'"phase": "{point}"' in journal.read_text():
            break
        if proc.poll() is not None:
            raise AssertionError(f"the deploy ended before {point}: {proc.stderr.read()[-2000:]}")
        time.sleep(0.05)
    else:
        raise AssertionError(f"the deploy never reached {point}")
    time.sleep(0.3)  # inside the stage
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)


def fingerprint(stack: Stack) -> dict[str, str]:
    """The live release's config files (of the example stack), by content."""
    release = (stack.root / "current").resolve()
    sums = {}
    for app in ("backend", "pwa", "relay", ".stack"):
        for path in sorted((release / app).resolve().rglob("*")):
            if path.is_file() and path.name in (".env", "config.json", "woosoo.conf"):
                sums[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return sums


def assert_previous_live(stack: Stack, release: str, sums: dict[str, str]) -> None:
    """After a fault: `release` is current, healthy, byte-identical, all services up."""
    assert stack.current() == release
    assert stack.health()["status"] == "ok"
    assert fingerprint(stack) == sums
    status = json.loads(stack.cli("services", "status", "--json").stdout)
    assert all(s["running"] for s in status), status
    assert not (stack.root / ".deployflow" / "journal.json").exists()
