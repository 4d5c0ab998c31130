"""A rollout over several targets, as data: the batches a strategy makes, and when failures
stop it. Pure functions."""

from __future__ import annotations

import math

from deployflow.errors import UsageError

__all__ = ["STRATEGIES", "batch_size", "batches", "parse_targets", "too_many_failed"]

STRATEGIES = ("all-at-once", "rolling", "canary", "blue-green")


def batch_size(total: int, batch: str) -> int:
    """`2` targets, or `50%` of them (rounded up, at least one)."""
    if batch.endswith("%"):
        return max(1, math.ceil(total * int(batch[:-1]) / 100))
    return max(1, int(batch))


def batches(targets: list[str], strategy: str, batch: str) -> list[list[str]]:
    """all-at-once: one batch; rolling: batches of `batch`; canary: the first target alone,
    then the rest in batches of `batch`; blue-green: batches as rolling, each target switching
    its proxy between slots."""
    if strategy == "all-at-once":
        return [list(targets)] if targets else []
    if strategy == "canary":
        return [targets[:1], *batches(targets[1:], "rolling", batch)] if targets else []
    if strategy not in ("rolling", "blue-green"):
        raise UsageError(f"--strategy {strategy!r}: use one of {', '.join(STRATEGIES)}")
    size = batch_size(len(targets), batch)
    return [targets[i : i + size] for i in range(0, len(targets), size)]


def too_many_failed(failed: int, total: int, max_fail: str) -> bool:
    """More than `max_fail` percent of all targets failed (0%: any failure)."""
    return failed * 100 > int(max_fail.rstrip("%")) * total


def parse_targets(text: str | None, known: list[str]) -> list[str]:
    """`a,b` or `all` (the default) as target names, in the stack's order; unknown: exit 2."""
    if text is None or text.strip() == "all":
        return list(known)
    wanted = [t.strip() for t in text.split(",") if t.strip()]
    unknown = [t for t in wanted if t not in known]
    if unknown or not wanted:
        raise UsageError(
            f"--targets {text!r}: unknown {', '.join(unknown) or 'empty'}; the stack has: "
            f"{', '.join(known)}"
        )
    return [t for t in known if t in wanted]
