"""The Docker engine deployflow runs itself: Debian's `dockerd` with its own socket, data-root,
exec-root and pidfile (state and log under the deployflow home; the socket and exec-root in a
short dir under /tmp, as unix socket paths are limited to 108 bytes), or the engine DOCKER_HOST
names. Clients talk to it through the docker SDK."""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deployflow.backends.daemons import read_state, start_daemon, stop_daemon
from deployflow.backends.executor import Command, resolve_program
from deployflow.backends.executor import run as run_command
from deployflow.backends.prefect_server import data_dir
from deployflow.backends.treeops import make_dir
from deployflow.errors import ServiceError

__all__ = [
    "EngineStatus",
    "docker_client",
    "engine_status",
    "engine_url",
    "start_engine",
    "stop_engine",
]

START_TIMEOUT = 60.0


def _home() -> Path:
    return data_dir() / "docker"


def _run_dir() -> Path:
    digest = hashlib.sha256(str(_home().resolve()).encode()).hexdigest()[:10]
    return Path(tempfile.gettempdir()) / f"deployflow-docker-{digest}"


def engine_url() -> str:
    return os.environ.get("DOCKER_HOST") or f"unix://{_run_dir() / 'docker.sock'}"


@dataclass(frozen=True)
class EngineStatus:
    running: bool
    url: str
    external: bool  # DOCKER_HOST names it: deployflow neither starts nor stops it
    pid: int | None = None
    version: str = ""
    detail: str = ""


def docker_client(timeout: float = 120.0) -> Any:
    """A docker SDK client of the engine (no call made yet)."""
    import docker

    return docker.DockerClient(base_url=engine_url(), timeout=int(timeout))


def _answers() -> tuple[bool, str]:
    url = engine_url()
    if url.startswith("unix://") and not Path(url.removeprefix("unix://")).exists():
        return False, "not running"
    try:
        client = docker_client(timeout=5)
        try:
            return True, str(client.version().get("Version", ""))
        finally:
            client.close()
    except Exception as exc:  # the SDK raises many kinds; any means: not answering
        text = str(exc)
        if "Connection refused" in text or "No such file" in text:
            return False, "nothing answers on its socket"
        return False, text.splitlines()[0][:200] if text else type(exc).__name__


def engine_status() -> EngineStatus:
    external = bool(os.environ.get("DOCKER_HOST"))
    _state, pid = read_state(_home() / "engine.json")
    up, said = _answers()
    return EngineStatus(up, engine_url(), external, pid, said if up else "", "" if up else said)


def start_engine(log: Any = print) -> EngineStatus:
    """The engine up: DOCKER_HOST's must answer; ours is started unless it already runs."""
    status = engine_status()
    if status.running:
        return status
    if status.external:
        raise ServiceError(f"the Docker engine at DOCKER_HOST={status.url} does not answer")
    program = resolve_program("dockerd")
    if program is None:
        raise ServiceError("no dockerd here: run ./scripts/install (apt: docker.io)")
    home, run = make_dir(_home(), 0o700), make_dir(_run_dir(), 0o700)
    left = _end_orphans(run) + _release_mounts(run, home)
    if left:
        log(f"cleared {left} things an engine that died left behind (containers, proxies, netns)")
    argv = [program, "--host", engine_url(), "--data-root", str(home / "data")]
    argv += ["--exec-root", str(run / "exec"), "--pidfile", str(run / "docker.pid")]
    start_daemon(Command.of(argv, timeout=None), home / "engine.json", home / "engine.log")
    ends = time.monotonic() + START_TIMEOUT
    while time.monotonic() < ends:
        status = engine_status()
        if status.running:
            log(f"docker engine {status.version} at {status.url} (data {home / 'data'})")
            return status
        if status.pid is None:
            break  # it died
        time.sleep(0.25)
    tail = (home / "engine.log").read_text(errors="replace").strip().splitlines()[-1:]
    stop_engine()
    raise ServiceError(f"dockerd did not start: {tail[0] if tail else 'no output'}")


def _end_orphans(run: Path) -> int:
    """What an engine killed outright leaves running: its containers' shims (with the
    containers under them, which would keep their addresses on the bridge) and the port
    proxies no engine owns any more (which would keep their ports). Returns how many ended."""
    import psutil

    ended = 0
    for proc in psutil.process_iter(["name", "cmdline"]):
        try:
            name, argv = proc.info["name"] or "", proc.info["cmdline"] or []
            ours = name.startswith("containerd-shim") and str(run) in " ".join(argv)
            if name == "docker-proxy":
                parent = proc.parent()
                ours = parent is None or parent.name() != "dockerd"
            if not ours:
                continue
            victims = [*proc.children(recursive=True), proc]
            for victim in victims:
                victim.kill()
            psutil.wait_procs(victims, timeout=10)
            ended += len(victims)
        except psutil.Error:
            continue
    return ended


def _release_mounts(run: Path, home: Path) -> int:
    """Unmount what the engine mounted and left once it is gone: the network namespaces under
    its exec-root (while one stays, its container's address stays on the bridge and the next
    container given that address is unreachable), its containers' filesystems and its
    data-root's own bind mount (which keep the home from being removed). Deepest first."""
    prefixes = (str(run / "exec" / "netns") + "/", str(home / "data"))
    try:
        mounts = Path("/proc/mounts").read_text().splitlines()
    except OSError:
        return 0
    points = {line.split()[1] for line in mounts}
    held = sorted((p for p in points if p.startswith(prefixes)), key=len, reverse=True)
    for path in held:
        run_command(Command.of(["umount", path], timeout=30), error=ServiceError, check=False)
    return len(held)


def stop_engine() -> None:
    """Stop the engine deployflow started (its containers stop with it); not DOCKER_HOST's."""
    stop_daemon(_home() / "engine.json", grace=20.0)
    _release_mounts(_run_dir(), _home())  # some stay after a clean stop too
