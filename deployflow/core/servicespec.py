"""A stack service resolved for one release: every template rendered, paths absolute."""

from __future__ import annotations

import shlex
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from deployflow.core.context import StackContext

__all__ = ["ServiceSpec", "service_spec", "spec_from_dict", "spec_to_dict"]


@dataclass(frozen=True)
class ServiceSpec:
    """What a backend needs to manage a service; a release snapshot stores one per service."""

    name: str
    unit: str
    command: list[str] = field(default_factory=list)
    cwd: Path | None = None
    env: dict[str, str] = field(default_factory=dict)
    image: str | None = None
    port: int | None = None
    host: str = "127.0.0.1"
    stop_grace: float = 10.0
    log_file: Path | None = None
    pid_file: Path | None = None
    backend: str = "process"
    start_timeout: float = 30.0
    app: str | None = None
    reuse_port: bool = False


def _bind_host(command: list[str], default: str) -> str:
    """The address a service binds to, from its `--host`/`--bind`/`--bind-address` option."""
    for i, arg in enumerate(command):
        for flag in ("--host", "--bind", "--bind-address", "-b"):
            if arg == flag and i + 1 < len(command):
                value = command[i + 1]
                return value.rsplit(":", 1)[0] if value.count(":") == 1 else value
            if arg.startswith(flag + "="):
                return arg.split("=", 1)[1]
    return default


def service_spec(ctx: StackContext, name: str, release_id: str | None = None) -> ServiceSpec:
    """The spec of `name` for a release: an app's service runs in `releases/<id>/<app>`."""
    svc = ctx.stack.services[name]
    where = f"services.{name}"
    lay = ctx.layout
    owner = ctx.stack.service_owner(name)
    base = lay.release(release_id) if release_id else lay.current
    if svc.cwd:
        rendered = ctx.render(svc.cwd, f"{where}.cwd", release_id)
        cwd = Path(rendered) if rendered.startswith("/") else base / rendered
    else:
        cwd = base / owner if owner else lay.root
    command = (
        shlex.split(ctx.render(svc.command, f"{where}.command", release_id)) if svc.command else []
    )
    host = ctx.render(svc.host, f"{where}.host") if svc.host else _bind_host(command, "127.0.0.1")
    return ServiceSpec(
        name=name,
        unit=svc.unit or f"{ctx.stack.project}-{name}",
        command=command,
        cwd=cwd,
        env={k: ctx.render(v, f"{where}.env.{k}", release_id) for k, v in svc.env.items()},
        image=ctx.render(svc.image, f"{where}.image", release_id) if svc.image else None,
        port=ctx.service_port(name),
        host="127.0.0.1" if host in ("0.0.0.0", "", "::") else host,
        stop_grace=svc.stop_grace,
        log_file=lay.logs / f"{name}.log",
        pid_file=lay.run / f"{name}.pid",
        backend=svc.backend,
        start_timeout=svc.start_timeout,
        app=owner,
        reuse_port=svc.reuse_port,
    )


def spec_to_dict(spec: ServiceSpec) -> dict[str, Any]:
    data = asdict(spec)
    for key in ("cwd", "log_file", "pid_file"):
        data[key] = str(data[key]) if data[key] is not None else None
    return data


def spec_from_dict(data: dict[str, Any]) -> ServiceSpec:
    values = dict(data)
    for key in ("cwd", "log_file", "pid_file"):
        values[key] = Path(values[key]) if values.get(key) else None
    return ServiceSpec(**values)
