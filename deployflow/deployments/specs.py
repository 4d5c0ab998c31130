"""Which deployments a stack has, as data: every flow per target, on that target's work pool,
with its parameters, tags and the stack file's schedules. No Prefect here."""

from __future__ import annotations

import hashlib
import json
import socket
from dataclasses import asdict, dataclass, field
from typing import Any

from deployflow.core.context import StackContext
from deployflow.errors import StackError

__all__ = [
    "FLOWS",
    "RECOVERED",
    "DeploymentSpec",
    "deployment_spec",
    "deployment_specs",
    "interval_seconds",
    "local_targets",
    "pick_target",
    "pool_of",
]

# deployment kind -> (flow entrypoint, flow name)
FLOWS: dict[str, tuple[str, str]] = {
    "deploy": ("deployflow.flows.deploy:deploy", "deploy"),
    "deploy-app": ("deployflow.flows.deploy:deploy", "deploy"),
    "rollback": ("deployflow.flows.rollback:rollback", "rollback"),
    "health-watch": ("deployflow.flows.health_watch:health_watch", "health-watch"),
    "cleanup": ("deployflow.flows.cleanup:cleanup", "cleanup"),
    "recover": ("deployflow.flows.recover:recover", "recover"),
    "backup": ("deployflow.flows.backup:backup", "backup"),
    "restore": ("deployflow.flows.backup:restore", "restore"),
    "cert": ("deployflow.flows.cert:cert", "cert"),
}
RECOVERED = ("deploy", "deploy-app", "rollback")  # a crashed run of these triggers `recover`


@dataclass(frozen=True)
class DeploymentSpec:
    kind: str
    target: str
    name: str  # the deployment's name; Prefect shows it as "<flow name>/<name>"
    pool: str
    parameters: dict[str, Any]
    tags: list[str]
    cron: str | None = None
    concurrency: int | None = None  # one run at a time (ENQUEUE the others)
    description: str = ""
    app_names: list[str] = field(default_factory=list)  # the choices the UI offers for `apps`

    @property
    def entrypoint(self) -> str:
        return FLOWS[self.kind][0]

    @property
    def full_name(self) -> str:
        return f"{FLOWS[self.kind][1]}/{self.name}"

    def run_parameters(self, options: dict[str, Any] | None = None) -> dict[str, Any]:
        """A run's parameters: the deployment's own (stack, target and root, fixed when it was
        applied) with the run's options over them. Every way into a run builds them here."""
        fixed = {"stack", "stack_name", "target", "root"}
        return {**self.parameters, **{k: v for k, v in (options or {}).items() if k not in fixed}}

    @property
    def fingerprint(self) -> str:
        """What the deployment is made of, as its Prefect `version`: a stack change, another
        root or another deployflow makes it differ, and commands that need the deployment
        apply it again (`deployments/ensure.py`)."""
        from deployflow import __version__

        made_of = {**asdict(self), "entrypoint": self.entrypoint, "deployflow": __version__}
        text = json.dumps(made_of, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def pool_of(ctx: StackContext, target: str) -> str:
    return ctx.stack.targets[target].work_pool or f"{ctx.stack.project}-{target}"


def pick_target(ctx: StackContext, target: str | None) -> str:
    if target is None:
        if len(ctx.stack.targets) == 1:
            return next(iter(ctx.stack.targets))
        raise StackError(f"several targets ({', '.join(ctx.stack.targets)}); pass --target NAME")
    if target not in ctx.stack.targets:
        raise StackError(
            f"unknown target {target!r}; the stack has: {', '.join(ctx.stack.targets)}"
        )
    return target


def local_targets(ctx: StackContext) -> list[str]:
    here = {"localhost", "127.0.0.1", socket.gethostname(), socket.getfqdn()}
    return [name for name, t in ctx.stack.targets.items() if t.host in here]


def deployment_specs(ctx: StackContext) -> list[DeploymentSpec]:
    project, schedules = ctx.stack.project, ctx.stack.schedules
    base = {"stack": str(ctx.stack_file), "stack_name": project}
    crons = {
        "health-watch": schedules.health_watch,
        "cleanup": schedules.cleanup,
        "backup": schedules.backup,
        "cert": schedules.cert_renew,
    }
    descriptions = {
        "deploy": "Deploy every app as a new release; roll back on failure.",
        "deploy-app": "Deploy the chosen apps; the others are carried over.",
        "rollback": "Go back to an earlier good release (its own configs, services, checks).",
        "health-watch": "Probe every app's health checks; notify on a change of state.",
        "cleanup": "Prune old releases, builds, backups and flow runs past retention.",
        "recover": "Put the last good release back after a run died (runs on a crash).",
        "backup": "Back up configs, the live release, databases (and shared files).",
        "restore": "Restore a backup (backup_id; `only` one part) after a safety backup.",
        "cert": "Renew certificates expiring within `days`; reload the proxy; notify.",
    }
    specs = []
    for target in ctx.stack.targets:
        for kind in FLOWS:
            # the root is fixed when the deployment is applied (runs may not name another)
            params = {**base, "target": target, "root": str(ctx.roots.get(target, ctx.root))}
            if kind == "deploy-app":
                params["apps"] = [next(iter(ctx.stack.apps))]
            specs.append(
                DeploymentSpec(
                    kind=kind,
                    target=target,
                    name=f"{project}-{target}" + ("-app" if kind == "deploy-app" else ""),
                    pool=pool_of(ctx, target),
                    parameters=params,
                    tags=["deployflow", project, target, ctx.stack.environment],
                    cron=crons.get(kind),
                    concurrency=1,  # one at a time; a schedule or webhook queues behind
                    description=descriptions[kind],
                    app_names=list(ctx.stack.apps),
                )
            )
    return specs


def deployment_spec(ctx: StackContext, kind: str, target: str | None) -> DeploymentSpec:
    """The deployment that runs `kind` on `target` (default: the stack's only target)."""
    chosen = pick_target(ctx, target)
    return next(s for s in deployment_specs(ctx) if s.kind == kind and s.target == chosen)


def interval_seconds(schedule: str) -> int | None:
    """`30s`, `5m`, `1h` as seconds; None for a cron line."""
    if " " in schedule:
        return None
    return int(schedule[:-1]) * {"s": 1, "m": 60, "h": 3600}[schedule[-1]]
