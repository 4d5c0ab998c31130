"""Deployments applied when a command needs them and they are missing or stale: each carries
its spec's fingerprint as its Prefect `version` (stack, root, schedules, deployflow), read back
in one REST call (no Prefect import when nothing changed)."""

from __future__ import annotations

from collections.abc import Callable

from deployflow.backends.prefect_rest import PrefectRest
from deployflow.core.context import StackContext
from deployflow.deployments.specs import deployment_specs

__all__ = ["ensure_deployments"]


def ensure_deployments(
    ctx: StackContext, url: str, say: Callable[[str], None] = lambda _m: None
) -> bool:
    """Apply the stack's deployments unless each is there with its fingerprint; True when
    they were (re)applied now."""
    specs = deployment_specs(ctx)
    rest = PrefectRest(url)
    try:
        found = rest.deployments([s.name for s in specs])
    finally:
        rest.close()
    stale = [s for s in specs if found.get(s.full_name) != s.fingerprint]
    if not stale:
        return False
    from deployflow.deployments.apply import apply_deployments

    why = "missing" if all(s.full_name not in found for s in stale) else "changed"
    say(f"deployments {why} for {ctx.stack.project} (root {ctx.root}): applying them")
    apply_deployments(ctx)
    return True
