"""Stop, start and ensure services through their backends."""

from __future__ import annotations

import shlex
from functools import partial
from pathlib import Path

from deployflow.backends.executor import run
from deployflow.backends.services import ServiceSpec, ServiceStatus, get_backend
from deployflow.core.context import StackContext
from deployflow.core.servicespec import service_spec
from deployflow.errors import HealthCheckError, ServiceError
from deployflow.probes import tcp_probe, wait_until_healthy
from deployflow.stages import Log

__all__ = ["ensure_infrastructure", "service_status", "start_services", "stop_services"]


def _prepare(ctx: StackContext, name: str, log: Log) -> None:
    svc = ctx.stack.services[name]
    if not svc.prepare or not svc.creates:
        return
    creates = ctx.render(svc.creates, f"services.{name}.creates")
    if Path(creates).exists():
        return
    for i, command in enumerate(svc.prepare):
        argv = shlex.split(ctx.render(command, f"services.{name}.prepare[{i}]"))
        log(f"{name}: prepare {argv[0]}")
        run(argv, cwd=ctx.root, error=ServiceError)


def _wait_for_port(spec: ServiceSpec, timeout: float) -> None:
    try:
        wait_until_healthy([partial(tcp_probe, "127.0.0.1", spec.port, timeout=1.0)], timeout, 0.05)
    except HealthCheckError:
        raise ServiceError(
            f"service {spec.name} started but port {spec.port} did not open in {timeout:.0f}s; "
            f"see {spec.log_file}"
        ) from None


def start_services(ctx: StackContext, names: list[str], log: Log) -> list[ServiceStatus]:
    statuses = []
    for name in names:
        spec = service_spec(ctx, name)
        _prepare(ctx, name, log)
        status = get_backend(ctx.stack.services[name].backend).start(spec)
        if spec.port:
            _wait_for_port(spec, ctx.stack.services[name].start_timeout)
        log(f"{name}: started ({status.detail})")
        statuses.append(status)
    return statuses


def stop_services(ctx: StackContext, names: list[str], log: Log) -> list[ServiceStatus]:
    statuses = []
    for name in reversed(names):
        spec = service_spec(ctx, name)
        status = get_backend(ctx.stack.services[name].backend).stop(spec)
        log(f"{name}: stopped")
        statuses.append(status)
    return statuses


def service_status(ctx: StackContext, names: list[str]) -> list[ServiceStatus]:
    return [get_backend(ctx.stack.services[n].backend).status(service_spec(ctx, n)) for n in names]


def ensure_infrastructure(ctx: StackContext, log: Log) -> list[ServiceStatus]:
    """Start services no app owns (a private database, say) if they are down; never stop them."""
    names = ctx.stack.infrastructure_services()
    down = [s.name for s in service_status(ctx, names) if not s.running]
    return start_services(ctx, down, log) if down else []
