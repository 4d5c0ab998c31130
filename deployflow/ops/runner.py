"""How an operation runs its stages: plainly in this process, or each as a Prefect task
(`deployflow.tasks.runner.PrefectRunner`). Operations only see this small interface."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol, TypeVar

__all__ = ["PlainRunner", "Runner"]

T = TypeVar("T")


class Runner(Protocol):
    run_id: str | None  # the run this is (a Prefect flow run's id), for its report's name

    def call(self, name: str, fn: Callable[..., T], *args: Any, retries: int = 0) -> T:
        """Run one stage (a Prefect task named `name` under Prefect)."""
        ...

    def each(
        self, name: str, fn: Callable[[str], T], items: list[str], concurrent: bool
    ) -> list[T]:
        """Run `fn` per item (concurrently when asked), results in item order."""
        ...

    def log(self, message: str) -> None: ...

    def publish(self, key: str, markdown: str, description: str) -> None:
        """Show a report where the run is watched (a Prefect artifact under Prefect)."""
        ...


class PlainRunner:
    """Stages as plain calls; log lines go to `sink` (the terminal, or nowhere)."""

    run_id: str | None = None

    def __init__(self, sink: Callable[[str], None] = lambda _m: None) -> None:
        self._sink = sink

    def call(self, name: str, fn: Callable[..., T], *args: Any, retries: int = 0) -> T:
        return fn(*args)

    def each(
        self, name: str, fn: Callable[[str], T], items: list[str], concurrent: bool
    ) -> list[T]:
        if not concurrent or len(items) < 2:
            return [fn(item) for item in items]
        with ThreadPoolExecutor(max_workers=min(4, len(items))) as pool:
            return list(pool.map(fn, items))

    def log(self, message: str) -> None:
        self._sink(message)

    def publish(self, key: str, markdown: str, description: str) -> None:
        return None
