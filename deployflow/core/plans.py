"""A saved rollout plan's life: DRAFT -> APPROVED -> EXECUTING -> COMPLETED | FAILED, and what
makes a plan stale (the stack file, the master config or an app's sources changed since it
was made). Pure functions over the plan record."""

from __future__ import annotations

import hashlib

from deployflow.errors import UsageError

__all__ = ["NEXT", "STATES", "advance", "fingerprint"]

STATES = ("DRAFT", "APPROVED", "EXECUTING", "COMPLETED", "FAILED")
NEXT = {
    "DRAFT": ("APPROVED",),
    "APPROVED": ("EXECUTING",),
    "EXECUTING": ("COMPLETED", "FAILED"),
    "COMPLETED": (),
    "FAILED": (),
}
_HINT = {
    "APPROVED": "only a DRAFT plan can be approved",
    "EXECUTING": "approve it first: deployflow approve PLAN",
}


def advance(plan: dict, state: str) -> dict:
    """The plan in `state`; UsageError when its current state does not lead there."""
    if state not in NEXT[plan["state"]]:
        hint = _HINT.get(state, "")
        raise UsageError(
            f"plan {plan['id']} is {plan['state']}, it cannot become {state}"
            + (f"; {hint}" if hint else "")
        )
    return {**plan, "state": state}


def fingerprint(stack_text: bytes, env_text: bytes, build_keys: dict[str, str]) -> str:
    """What a plan was made from: the stack file, the master config and each app's build key
    (its source tree and build steps)."""
    digest = hashlib.sha256()
    for part in (stack_text, b"\0", env_text, b"\0"):
        digest.update(part)
    for app in sorted(build_keys):
        digest.update(f"{app}={build_keys[app]}\n".encode())
    return digest.hexdigest()
