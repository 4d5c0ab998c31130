"""Failpoints: named places where a fault can be injected on purpose, for the fault suite and
for anyone who wants to see what a deploy does when a stage dies. Off unless set:
`DEPLOYFLOW_FAILPOINTS="verify=exit,rollback=hang"` (exit: the stage fails; hang: it stops
there until killed; stop: the process stops itself with SIGSTOP, to be continued with SIGCONT
once something else was broken); `verify@web2=exit` only on target web2 (one host failing in a
rollout)."""

from __future__ import annotations

import os
import signal
import time

from deployflow.errors import DeployflowError

__all__ = ["failpoint", "failpoint_action"]


def failpoint_action(name: str, target: str | None = None) -> str | None:
    """The action set for `name` (or `name@target`), if any."""
    for item in os.environ.get("DEPLOYFLOW_FAILPOINTS", "").split(","):
        point, _, action = item.strip().partition("=")
        if point in (name, f"{name}@{target}"):
            return action
    return None


def failpoint(name: str, target: str | None = None) -> None:
    action = failpoint_action(name, target)
    if action == "exit":
        raise DeployflowError(f"failpoint {name}: injected failure")
    if action == "hang":
        while True:
            time.sleep(3600)
    if action == "stop":
        os.kill(os.getpid(), signal.SIGSTOP)
