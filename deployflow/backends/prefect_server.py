"""The embedded default: a local Prefect server on SQLite under the user's data dir, started once
in the background and reused (Prefect's ephemeral mode costs 5-13 s in every process)."""

from __future__ import annotations

import fcntl
import os
import secrets
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from deployflow.backends.daemons import read_state, start_daemon, stop_daemon
from deployflow.backends.executor import Command
from deployflow.backends.files import atomic_write
from deployflow.backends.pgcluster import start_cluster, stop_cluster
from deployflow.errors import DeployflowError

__all__ = [
    "API_AUTH",
    "ServerInfo",
    "api_answers",
    "data_dir",
    "ensure_api",
    "server_status",
    "start_server",
    "stop_server",
]

QUIET = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_UI_SHOW_PROMOTIONAL_CONTENT": "false",
}


@dataclass(frozen=True)
class ServerInfo:
    url: str
    pid: int | None
    running: bool
    home: str
    log: str
    external: bool = False
    auth: str | None = field(default=None, repr=False)  # the local server's credential
    database: str = "sqlite"  # the local server's: sqlite, or postgresql (pgcluster.py)

    @property
    def auth_file(self) -> str:
        return str(Path(self.home) / AUTH_FILE) if self.home else ""


def data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(os.environ.get("DEPLOYFLOW_HOME", Path(base) / "deployflow"))


API_AUTH = "PREFECT_API_AUTH_STRING"
AUTH_FILE = "auth"
AUTH_USER = "deployflow"


def _paths() -> tuple[Path, Path, Path]:
    home = data_dir() / "prefect"
    return home, home / "server.json", home / "server.log"


def _private_home(home: Path) -> None:
    """The server's home (its SQLite database, credential, logs) is its owner's alone."""
    home.mkdir(parents=True, exist_ok=True)
    os.chmod(home, 0o700)


def _read_credential(home: Path) -> str | None:
    try:
        return (home / AUTH_FILE).read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


def _credential(home: Path) -> str:
    """The local server's `user:password` (0600 under its home): PREFECT_SERVER_API_AUTH_STRING
    when the user sets one, else the one made on first use."""
    given = os.environ.get("PREFECT_SERVER_API_AUTH_STRING")
    known = _read_credential(home)
    if known and (not given or given == known):
        return known
    chosen = given or f"{AUTH_USER}:{secrets.token_urlsafe(32)}"
    atomic_write(home / AUTH_FILE, chosen + "\n", 0o600)
    return chosen


def api_answers(url: str, timeout: float = 1.0) -> bool:
    """The API's /health answers 200 within `timeout` (Prefect's client would retry ~65 s)."""
    from deployflow.backends.prefect_rest import PrefectRest

    if not url.startswith(("http://", "https://")):
        return False
    rest = PrefectRest(url, timeout=timeout)
    try:
        return rest.health() == 200
    finally:
        rest.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _server_port() -> int:
    """DEPLOYFLOW_SERVER_PORT when set, else a free port."""
    wanted = os.environ.get("DEPLOYFLOW_SERVER_PORT", "")
    if not wanted:
        return _free_port()
    if not wanted.isdigit() or not 1 <= int(wanted) <= 65535:
        raise DeployflowError(f"DEPLOYFLOW_SERVER_PORT={wanted!r} is not a port number")
    return int(wanted)


def server_status(local: bool = False) -> ServerInfo:
    """The server in use: PREFECT_API_URL's (unless `local`), else the local one."""
    if os.environ.get("PREFECT_API_URL") and not local:
        url = os.environ["PREFECT_API_URL"]
        return ServerInfo(url, None, api_answers(url), "", "", external=True)
    home, state_file, log = _paths()
    state, pid = read_state(state_file)
    url = state.get("url", "")
    running = pid is not None and api_answers(url)
    database = state.get("database", "sqlite")
    return ServerInfo(
        url, pid, running, str(home), str(log), auth=_read_credential(home), database=database
    )


def local_database(url: str) -> str | None:
    """The database deployflow's local server runs on, when it is the server at `url` (None:
    `url` is some other server)."""
    _home, state_file, _log = _paths()
    state, pid = read_state(state_file)
    return state.get("database", "sqlite") if pid is not None and state.get("url") == url else None


def start_server(
    timeout: float = 90.0,
    say: Callable[[str], None] = lambda _m: None,
    database: str | None = None,
) -> ServerInfo:
    """Start the local server unless it already answers (on `database` when given, else on
    the one it last ran on, SQLite at first); serialised by a file lock."""
    home, state_file, log = _paths()
    _private_home(home)
    with open(home / "server.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        info = server_status(local=True)
        chosen = home / "database"  # kept across stops: the next start uses it again
        last = chosen.read_text().strip() if chosen.is_file() else "sqlite"
        database = database or (info.database if info.running else last)
        if database != last:
            atomic_write(chosen, database + "\n", 0o600)
        # one started before servers were authenticated (or with another credential or
        # database) is replaced
        authed = read_state(state_file)[0].get("authenticated")
        if info.running and authed and info.auth == _credential(home):
            if database == info.database:
                return info
            say(f"restarting the local Prefect server on {database} (it ran on {info.database})")
        stop_daemon(state_file)  # a stale or unanswering one
        port = _server_port()
        say(
            f"starting the local Prefect server on 127.0.0.1:{port} (log: {log}); first start ~10 s"
        )
        url = f"http://127.0.0.1:{port}/api"
        env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
        auth = _credential(home)
        # the bundled UI must call this server's API, not the default port's; every caller,
        # the UI included, must present the credential (no local user reaches it without it)
        env.update(QUIET, PREFECT_HOME=str(home), PREFECT_UI_API_URL=url)
        env.update(PREFECT_SERVER_API_AUTH_STRING=auth, PREFECT_API_AUTH_STRING=auth)
        if database == "postgresql":
            say("its database: a private PostgreSQL under the deployflow home")
            env["PREFECT_API_DATABASE_CONNECTION_URL"] = start_cluster(home)
        argv = [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1"]
        command = Command.of([*argv, "--port", str(port)], env=env, timeout=None, inherit_env=False)
        facts = {"url": url, "port": port, "authenticated": True, "database": database}
        pid = start_daemon(command, state_file, log, **facts)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if read_state(state_file)[1] is None:
                raise DeployflowError(f"the local Prefect server exited at start; see {log}")
            if api_answers(url):
                return ServerInfo(url, pid, True, str(home), str(log), auth=auth, database=database)
            time.sleep(0.25)
        raise DeployflowError(
            f"the local Prefect server did not answer in {timeout:.0f}s; see {log}"
        )


def stop_server() -> ServerInfo:
    home, state_file, _log = _paths()
    stop_daemon(state_file)
    stop_cluster(home)  # its private PostgreSQL, when it ran on one
    return server_status()


def _check_remote(url: str) -> None:
    """One clear line when the configured API does not answer or refuses our credentials."""
    from deployflow.backends.prefect_rest import PrefectRest

    rest = PrefectRest(url, timeout=5)
    try:
        status = rest.health()
    finally:
        rest.close()
    if status is None:
        raise DeployflowError(
            f"the Prefect API at {url} does not answer; start it or fix PREFECT_API_URL"
        )
    if status == 401:
        raise DeployflowError(
            f"the Prefect API at {url} refused our credentials (401); set PREFECT_API_AUTH_STRING"
        )


def ensure_api(say: Callable[[str], None] = lambda _m: None, database: str | None = None) -> str:
    """Point this process at a Prefect API: PREFECT_API_URL if set (checked), else the local
    server (on `database` when given)."""
    if os.environ.get("PREFECT_API_URL"):
        _check_remote(os.environ["PREFECT_API_URL"])
        return os.environ["PREFECT_API_URL"]
    info = start_server(say=say, database=database)
    os.environ["PREFECT_API_URL"] = info.url
    if info.auth:
        os.environ[API_AUTH] = info.auth
    for key, value in QUIET.items():
        os.environ.setdefault(key, value)
    return info.url
