"""The blue-green proxy: Debian's nginx, run by the process backend under `<root>/proxy`, its
upstream files rewritten and reloaded (`nginx -t`, `nginx -s reload`) to switch a service's
traffic between slots. nginx's reload is graceful: old workers finish their requests."""

from __future__ import annotations

import grp
import os
import pwd
import time
from collections.abc import Callable
from pathlib import Path

import psutil

from deployflow.backends.executor import Command, resolve_program, run
from deployflow.backends.files import atomic_write
from deployflow.core.proxyconf import upstream_conf, upstream_port
from deployflow.core.servicespec import ServiceSpec
from deployflow.errors import ServiceError

__all__ = [
    "connections_to",
    "nginx_program",
    "prepare_prefix",
    "read_upstream",
    "reload_proxy",
    "retiring_workers",
    "switch_upstream",
]

RELOAD_TIMEOUT = 15.0


def nginx_program() -> str:
    program = resolve_program("nginx")
    if program is None:
        raise ServiceError("the stack's proxy needs nginx; run ./scripts/install (apt: nginx)")
    return program


def prepare_prefix(prefix: Path) -> str | None:
    """nginx's dirs under `prefix`; started as root, its workers run as nobody, who must write
    the temp dirs. Returns the `user` line's value (None: not root, nginx runs as us)."""
    nobody = pwd.getpwnam("nobody") if os.geteuid() == 0 else None
    (prefix / "upstreams").mkdir(parents=True, exist_ok=True)
    for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (prefix / "tmp" / kind).mkdir(parents=True, exist_ok=True)
        if nobody is not None:
            os.chown(prefix / "tmp" / kind, nobody.pw_uid, nobody.pw_gid)
    return f"{nobody.pw_name} {grp.getgrgid(nobody.pw_gid).gr_name}" if nobody else None


def connections_to(port: int) -> int:
    """Established TCP connections to `port` on this host (a slot still serving someone)."""
    return sum(
        1
        for c in psutil.net_connections("tcp")
        if c.laddr and c.laddr.port == port and c.status == psutil.CONN_ESTABLISHED
    )


def reload_proxy(prefix: Path) -> None:
    """Test the config, reload, and wait until a worker of the new generation serves."""
    argv = [nginx_program(), "-p", str(prefix), "-c", str(prefix / "nginx.conf")]
    checked = run(Command.of([*argv, "-t"], timeout=30), error=ServiceError, check=False)
    if checked.returncode != 0:
        raise ServiceError(f"nginx refused its config: {' | '.join(checked.tail[-3:])}")
    before = _workers(prefix)
    run(Command.of([*argv, "-s", "reload"], timeout=30), error=ServiceError)
    deadline = time.monotonic() + RELOAD_TIMEOUT
    while time.monotonic() < deadline:
        # a new worker serves and the old ones accept no more (they finish what they have)
        if any(w not in before for w in _workers(prefix)) and not any(
            _accepting(w) for w in before
        ):
            return
        time.sleep(0.01)
    raise ServiceError(f"nginx did not reload in {RELOAD_TIMEOUT:.0f}s; see {prefix}/error.log")


def _accepting(pid: int) -> bool:
    """The worker still holds a listening socket (it closes them when told to shut down)."""
    try:
        return any(c.status == psutil.CONN_LISTEN for c in psutil.Process(pid).net_connections())
    except psutil.Error:
        return False


def _master(prefix: Path) -> psutil.Process | None:
    try:
        return psutil.Process(int((prefix / "nginx.pid").read_text().strip()))
    except (FileNotFoundError, ValueError, psutil.Error):
        return None


def _workers(prefix: Path, serving: bool = False) -> set[int]:
    """The master's worker pids; `serving`: only those not shutting down."""
    master = _master(prefix)
    if master is None:
        return set()
    found = set()
    for child in master.children():
        try:
            title = " ".join(child.cmdline())
        except psutil.Error:
            continue
        if not serving or "shutting down" not in title:
            found.add(child.pid)
    return found


def retiring_workers(upstream: Path) -> int:
    """Workers from before the last reload still finishing requests (to the old slot)."""
    prefix = upstream.parent.parent
    return len(_workers(prefix) - _workers(prefix, serving=True))


def read_upstream(upstream: Path) -> int | None:
    """The port the upstream file sends traffic to; None before the proxy was set up."""
    try:
        return upstream_port(upstream.read_text())
    except FileNotFoundError:
        return None


def switch_upstream(spec: ServiceSpec, log: Callable[[str], None]) -> None:
    """Send the service's traffic to `spec`'s slot: rewrite its upstream file, test, reload."""
    assert spec.upstream is not None and spec.port is not None
    previous = spec.upstream.read_text() if spec.upstream.is_file() else None
    atomic_write(spec.upstream, upstream_conf(spec.upstream.stem, spec.host, spec.port))
    try:
        reload_proxy(spec.upstream.parent.parent)
    except ServiceError:
        if previous is not None:
            atomic_write(spec.upstream, previous)  # traffic stays where it was
        raise
    log(f"{spec.name}: traffic -> {spec.slot} ({spec.host}:{spec.port})")
