"""Each target's release history, read from its deploy root (targets whose root is on this
machine: the local hosts and any root mounted here)."""

from __future__ import annotations

from deployflow.backends.history import current_release, load_history
from deployflow.core.deployhistory import TargetState
from deployflow.errors import UsageError
from deployflow.loading import load_stack
from deployflow.stages.snapshotfile import load_snapshot

__all__ = ["target_states"]


def target_states(stack: str, root: str | None, only: str | None = None) -> dict[str, TargetState]:
    base = load_stack(stack, root, persist_generated=False)
    names = list(base.stack.targets)
    if only is not None and only not in names:
        raise UsageError(f"--target {only!r}: the stack has {', '.join(names)}")
    states = {}
    for name in [only] if only else names:
        own = base.stack.targets[name].root  # a target's own root comes before --root
        ctx = load_stack(stack, None if own else root, persist_generated=False, target=name)
        current = current_release(ctx)
        active: dict[str, dict[str, str]] = {}
        if current and ctx.layout.snapshot(current).is_file():
            for app, state in load_snapshot(ctx, current).apps.items():
                active[app] = {"release": state.runs_from, "version": state.version}
        states[name] = TargetState(load_history(ctx), current, active)
    return states
