"""Which processes listen on a TCP port: the kernel's listen tables (/proc/net/tcp, no process
walk) for "is anything listening", psutil for "does this group": lets a service's new process be
known to listen before its old one is stopped."""

from __future__ import annotations

import contextlib
import socket
from pathlib import Path

import psutil

from deployflow.backends.services.process_table import GONE, group_members

__all__ = ["ephemeral_range", "free_port_from", "group_listens", "listening"]

LISTEN = "0A"


def _listening_inodes(port: int) -> set[str]:
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(FileNotFoundError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                local_port = int(fields[1].rsplit(":", 1)[1], 16)
                if local_port == port and fields[3] == LISTEN:
                    inodes.add(fields[9])
    return inodes


def ephemeral_range() -> tuple[int, int]:
    """The ports the kernel hands out for outgoing connections."""
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999


def listening(port: int) -> bool:
    """True when some socket listens on TCP `port` (any address), read from the kernel's
    tables: never a connect, which on a port of the ephemeral range can connect to itself."""
    return bool(_listening_inodes(port))


def group_listens(pgid: int, port: int) -> bool:
    """True when a process of group `pgid` holds a listening socket on `port`."""
    if not _listening_inodes(port):
        return False
    for pid in group_members(pgid):
        with contextlib.suppress(*GONE):
            for conn in psutil.Process(pid).net_connections(kind="tcp"):
                if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port:
                    return True
    return False


def free_port_from(start: int, taken: set[int]) -> int:
    """The first port from `start` up that is not in `taken` and binds on 127.0.0.1 now."""
    port = start
    while True:
        if port not in taken:
            with socket.socket() as sock, contextlib.suppress(OSError):
                sock.bind(("127.0.0.1", port))
                return port
        port += 1
