"""Which processes listen on a TCP port, read from /proc (Linux): lets a service's new process
be known to listen before its old one is stopped."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from deployflow.backends.services.process_table import group_members

__all__ = ["ephemeral_range", "group_listens", "listening"]

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
    inodes = _listening_inodes(port)
    if not inodes:
        return False
    for pid in group_members(pgid):
        with contextlib.suppress(FileNotFoundError, PermissionError, ProcessLookupError):
            for fd in os.listdir(f"/proc/{pid}/fd"):
                with contextlib.suppress(OSError):
                    link = os.readlink(f"/proc/{pid}/fd/{fd}")
                    if link.startswith("socket:[") and link[8:-1] in inodes:
                        return True
    return False
