"""Stop, start and ensure services through their backends, from resolved specs."""

from __future__ import annotations

import shlex
from pathlib import Path

from deployflow.backends.executor import Command, run
from deployflow.backends.services import ServiceStatus, get_backend
from deployflow.core.context import StackContext
from deployflow.core.servicespec import ServiceSpec, service_spec
from deployflow.errors import HealthCheckError, ServiceError
from deployflow.probes import tcp_probe, wait_until_healthy
from deployflow.stages import Log

__all__ = ["ensure_infrastructure", "start_specs", "status_specs", "stop_specs"]


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
        run(Command.of(argv, cwd=ctx.root, timeout=600), error=ServiceError)


def _wait_for_port(spec: ServiceSpec) -> None:
    if not spec.port or spec.backend == "process":  # the process backend waits itself
        return
    try:
        probe = lambda: tcp_probe(spec.host, spec.port or 0, timeout=1.0)  # noqa: E731
        wait_until_healthy([probe], spec.start_timeout, 0.05)
    except HealthCheckError:
        raise ServiceError(
            f"service {spec.name} started but port {spec.port} on {spec.host} did not open in "
            f"{spec.start_timeout:.0f}s; see {spec.log_file}"
        ) from None


def start_specs(specs: list[ServiceSpec], log: Log, replace: bool = False) -> list[ServiceStatus]:
    """Start each; with `replace`, a `reuse_port` service's running process is replaced only
    once the new one listens (no refused connections)."""
    statuses = []
    for spec in specs:
        status = get_backend(spec.backend).start(spec, replace=replace and spec.reuse_port)
        _wait_for_port(spec)
        log(f"{spec.name}: started ({status.detail})")
        statuses.append(status)
    return statuses


def stop_specs(specs: list[ServiceSpec], log: Log) -> list[ServiceStatus]:
    statuses = []
    for spec in reversed(specs):
        statuses.append(get_backend(spec.backend).stop(spec))
        log(f"{spec.name}: stopped")
    return statuses


def status_specs(specs: list[ServiceSpec]) -> list[ServiceStatus]:
    return [get_backend(spec.backend).status(spec) for spec in specs]


def ensure_infrastructure(ctx: StackContext, log: Log) -> list[ServiceStatus]:
    """Start services no app owns (a private database, say) if they are down; never stop them."""
    specs = [service_spec(ctx, name) for name in ctx.stack.infrastructure_services()]
    down = [s for s, st in zip(specs, status_specs(specs), strict=True) if not st.running]
    for spec in down:
        _prepare(ctx, spec.name, log)
    return start_specs(down, log)
