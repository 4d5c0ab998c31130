"""Turn a stack service into a `ServiceSpec` with every template rendered."""

from __future__ import annotations

import shlex
from pathlib import Path

from deployflow.backends.services.base import ServiceSpec
from deployflow.core.context import StackContext

__all__ = ["service_spec", "services_for"]


def service_spec(ctx: StackContext, name: str) -> ServiceSpec:
    svc = ctx.stack.services[name]
    where = f"services.{name}"
    lay = ctx.layout
    owner = ctx.stack.service_owner(name)
    if svc.cwd:
        rendered = ctx.render(svc.cwd, f"{where}.cwd")
        cwd = Path(rendered) if rendered.startswith("/") else lay.current / rendered
    else:
        cwd = lay.current / owner if owner else lay.root
    command = shlex.split(ctx.render(svc.command, f"{where}.command")) if svc.command else []
    return ServiceSpec(
        name=name,
        unit=svc.unit or f"{ctx.stack.project}-{name}",
        command=command,
        cwd=cwd,
        env={k: ctx.render(v, f"{where}.env.{k}") for k, v in svc.env.items()},
        image=svc.image,
        port=ctx.service_port(name),
        stop_grace=svc.stop_grace,
        log_file=lay.logs / f"{name}.log",
        pid_file=lay.run / f"{name}.pid",
    )


def services_for(ctx: StackContext, apps: list[str]) -> list[str]:
    """The services the given apps run, in stack order."""
    wanted = {svc for app in apps for svc in ctx.stack.apps[app].services}
    return [name for name in ctx.stack.services if name in wanted]
