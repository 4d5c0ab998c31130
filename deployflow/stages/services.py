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
from deployflow.stages.slots import bring_live, ensure_proxy, retire, slot_status, stop_slots

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


def start_specs(
    specs: list[ServiceSpec],
    log: Log,
    replace: bool = False,
    retiring: list[ServiceSpec] | None = None,
) -> list[ServiceStatus]:
    """Start each; with `replace`, a `reuse_port` service's running process is replaced only
    once the new one listens (no refused connections). A blue-green service comes up on its
    idle slot and takes the traffic; the slot it left drains and stops now, or is added to
    `retiring` for the caller to retire later (after the new release is verified)."""
    statuses = []
    for spec in specs:
        if spec.slots:
            old = bring_live(spec, log)
            if old is not None and retiring is not None:
                retiring.append(old)
            elif old is not None:
                retire(old, log)
            statuses.append(slot_status(spec))
            continue
        status = get_backend(spec.backend).start(spec, replace=replace and spec.reuse_port)
        _wait_for_port(spec)
        log(f"{spec.name}: started ({status.detail})")
        statuses.append(status)
    return statuses


def stop_specs(specs: list[ServiceSpec], log: Log) -> list[ServiceStatus]:
    statuses = []
    for spec in reversed(specs):
        backend = get_backend(spec.backend)
        statuses.append(stop_slots(spec) if spec.slots else backend.stop(spec))
        log(f"{spec.name}: stopped")
    return statuses


def status_specs(specs: list[ServiceSpec]) -> list[ServiceStatus]:
    return [slot_status(s) if s.slots else get_backend(s.backend).status(s) for s in specs]


def ensure_infrastructure(ctx: StackContext, log: Log) -> list[ServiceStatus]:
    """Start services no app owns (a private database, say) and the blue-green proxy if they
    are down; never stop them."""
    specs = [service_spec(ctx, name) for name in ctx.stack.infrastructure_services()]
    down = [s for s, st in zip(specs, status_specs(specs), strict=True) if not st.running]
    for spec in down:
        _prepare(ctx, spec.name, log)
    statuses = start_specs(down, log)
    ensure_proxy(ctx, log)
    return statuses
