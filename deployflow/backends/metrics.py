"""What a service and its host use, read with psutil: CPU and memory of a service's whole
process tree, its uptime; the host's CPU, memory, load and free disk. CPU is sampled over one
short window shared by every process, so reading many services costs one window, not many."""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from pathlib import Path
from typing import Any

__all__ = ["host_usage", "tree_usage"]

WINDOW = 0.3  # seconds over which CPU use is measured


def _tree(pid: int) -> list[Any]:
    import psutil

    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.Error:
        return []


def tree_usage(pids: dict[str, int | None]) -> dict[str, dict[str, float]]:
    """{name: {cpu (% of one core), rss_mb, uptime_s, processes}} for each running pid."""
    import psutil

    trees = {name: _tree(pid) for name, pid in pids.items() if pid}
    psutil.cpu_percent(None)  # the host's window too (read by host_usage afterwards)
    for procs in trees.values():
        for proc in procs:
            with contextlib.suppress(psutil.Error):
                proc.cpu_percent(None)  # starts the window
    time.sleep(WINDOW)
    usage: dict[str, dict[str, float]] = {}
    for name, procs in trees.items():
        cpu = rss = 0.0
        alive = 0
        for proc in procs:
            try:
                cpu += proc.cpu_percent(None)
                rss += proc.memory_info().rss
                alive += 1
            except psutil.Error:
                continue
        try:
            uptime = time.time() - procs[0].create_time() if procs else 0.0
        except psutil.Error:
            uptime = 0.0
        usage[name] = {"cpu": cpu, "rss_mb": rss / 2**20, "uptime_s": uptime, "processes": alive}
    return usage


def host_usage(paths: dict[str, Path]) -> dict[str, Any]:
    """The host: CPU %, RAM used/total MB, load average, free GB under each of `paths`."""
    import psutil

    memory = psutil.virtual_memory()
    free = {}
    for label, path in paths.items():
        probe = path
        while not probe.exists() and probe != probe.parent:
            probe = probe.parent
        free[label] = shutil.disk_usage(probe).free / 2**30
    return {
        "cpu": psutil.cpu_percent(interval=None),
        "ram_used_mb": (memory.total - memory.available) / 2**20,
        "ram_total_mb": memory.total / 2**20,
        "load": list(os.getloadavg()),
        "disk_free_gb": free,
    }
