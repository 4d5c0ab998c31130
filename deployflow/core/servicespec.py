"""A stack service resolved for one release: every template rendered, paths absolute."""

from __future__ import annotations

import shlex
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from deployflow.core.context import StackContext
from deployflow.core.proxyconf import upstream_name

__all__ = ["SLOTS", "ServiceSpec", "on_slot", "service_spec", "spec_from_dict", "spec_to_dict"]

SLOTS = ("blue", "green")
SLOT_PORT = "@deployflow-slot-port@"  # `{{ slot.port }}` until a slot is chosen


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
    slots: list[int] = field(default_factory=list)  # blue-green: blue's and green's ports
    slot: str | None = None  # the slot this spec runs on (set by `on_slot`)
    check: str = "/"  # blue-green: the path probed on a slot before traffic switches to it
    drain: float = 30.0
    upstream: Path | None = None  # blue-green: the proxy's upstream file for this service
    env_file: Path | None = None  # its app's env_file in the release, read when it starts
    # a container's (backend docker): limits, restart policy, labels, shared dirs mounted
    memory: str | None = None
    cpus: float | None = None
    restart: str = "unless-stopped"
    labels: dict[str, str] = field(default_factory=dict)
    binds: dict[str, str] = field(default_factory=dict)  # host path -> path in the container


def on_slot(spec: ServiceSpec, slot: str) -> ServiceSpec:
    """The blue-green service as it runs on `slot`: that slot's port, pidfile and unit."""
    port = spec.slots[SLOTS.index(slot)]

    def bind(text: str) -> str:
        return text.replace(SLOT_PORT, str(port))

    assert spec.pid_file is not None
    return replace(
        spec,
        command=[bind(a) for a in spec.command],
        env={k: bind(v) for k, v in spec.env.items()},
        port=port,
        slot=slot,
        unit=f"{spec.unit}-{slot}",
        pid_file=spec.pid_file.with_name(f"{spec.name}.{slot}.pid"),
    )


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
    bg = svc.blue_green
    extra = {"slot": {"port": SLOT_PORT}} if bg else None
    app = ctx.stack.apps[owner] if owner else None  # its env and env_file are the service's too
    command = (
        shlex.split(ctx.render(svc.command, f"{where}.command", release_id, extra))
        if svc.command
        else []
    )
    if svc.postgres:  # deployflow's own runner initialises the data dir, then is the server
        pg = svc.postgres
        command = [
            ctx.render("{{ sys.python }}", where),
            "-m",
            "deployflow.backends.pgservice",
            "--data",
            ctx.render(pg.data, f"{where}.postgres.data"),
            "--port",
            str(ctx.service_port(name)),
            "--host",
            ctx.render(pg.host, f"{where}.postgres.host"),
        ]
    host = ctx.render(svc.host, f"{where}.host") if svc.host else _bind_host(command, "127.0.0.1")
    return ServiceSpec(
        name=name,
        unit=svc.unit or f"{ctx.stack.project}-{name}",
        command=command,
        cwd=cwd,
        env=_with_port(
            {
                k: ctx.render(v, f"{where}.env.{k}", release_id, extra)
                for k, v in {**(app.env if app else {}), **svc.env}.items()
            },
            SLOT_PORT if bg else ctx.service_port(name),
        ),
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
        slots=[ctx.port(p, f"{where}.blue_green.ports") for p in bg.ports] if bg else [],
        check=bg.check if bg else "/",
        drain=bg.drain if bg else 30.0,
        upstream=lay.proxy / "upstreams" / f"{upstream_name(ctx.stack.project, name)}.conf"
        if bg
        else None,
        env_file=base / str(owner) / app.env_file if app and app.env_file else None,
    )


def _with_port(env: dict[str, str], port: int | str | None) -> dict[str, str]:
    """`PORT` in a service's environment (Procfile style): its port, or its slot's under
    blue-green; a PORT the stack sets itself wins."""
    if port is None or "PORT" in env:
        return env
    return {**env, "PORT": str(port)}


_PATHS = ("cwd", "log_file", "pid_file", "upstream", "env_file")


def spec_to_dict(spec: ServiceSpec) -> dict[str, Any]:
    data = asdict(spec)
    for key in _PATHS:
        data[key] = str(data[key]) if data[key] is not None else None
    return data


def spec_from_dict(data: dict[str, Any]) -> ServiceSpec:
    values = dict(data)
    for key in _PATHS:
        values[key] = Path(values[key]) if values.get(key) else None
    return ServiceSpec(**values)
