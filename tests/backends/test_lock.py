"""The root's lock under contention: never two holders, the holder named, released on death."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from pathlib import Path

import pytest

from deployflow.backends.lock import deploy_lock, lock_holder
from deployflow.errors import LockError


def _contend(path: str, inside, overlaps, taken) -> None:
    for _ in range(100):
        try:
            with deploy_lock(Path(path), "race"):
                with inside.get_lock():
                    inside.value += 1
                    if inside.value > 1:
                        overlaps.value += 1
                time.sleep(0.0005)
                with inside.get_lock():
                    inside.value -= 1
                taken.value += 1
        except LockError:
            pass


def test_never_two_holders_under_contention(tmp_path: Path) -> None:
    inside, overlaps, taken = (multiprocessing.Value("i", 0) for _ in range(3))
    procs = [
        multiprocessing.Process(
            target=_contend, args=(str(tmp_path / "lock"), inside, overlaps, taken)
        )
        for _ in range(4)
    ]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(60)
    assert overlaps.value == 0 and taken.value > 0


def _hold(path: str) -> None:
    with deploy_lock(Path(path), "deploy all apps"):
        time.sleep(60)


def test_holder_is_named_and_a_killed_holder_releases_it(tmp_path: Path) -> None:
    path = tmp_path / "lock"
    holder = multiprocessing.Process(target=_hold, args=(str(path),))
    holder.start()
    for _ in range(200):
        if lock_holder(path):
            break
        time.sleep(0.01)
    message = rf"another operation \(deploy all apps, pid {holder.pid}"
    with pytest.raises(LockError, match=message), deploy_lock(path, "second"):
        pass
    os.kill(holder.pid, signal.SIGKILL)
    holder.join()
    assert lock_holder(path) is None
    with deploy_lock(path, "after"):
        assert lock_holder(path)["pid"] == os.getpid()
