"""Two pieces of independent work at once (a backup's dumps and its archive; a restore's safety
backup and its staging), with Prefect's run context carried into the thread so logging works.
Both always finish before this returns; the first error is raised."""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

__all__ = ["both"]

A = TypeVar("A")
B = TypeVar("B")


def both(here: Callable[[], A], aside: Callable[[], B]) -> tuple[A, B]:
    """Run `aside` in a thread while `here` runs in this one; return both results."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        job = pool.submit(contextvars.copy_context().run, aside)
        try:
            mine = here()
        except BaseException:
            job.exception()  # wait: nothing may still be writing when the caller cleans up
            raise
        return mine, job.result()
