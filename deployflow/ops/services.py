"""Services by hand: status (read-only, says when a deploy was interrupted) and start, stop,
restart under the root's lock, from the live release's own snapshot."""

from __future__ import annotations

from deployflow.backends.history import current_release
from deployflow.backends.lock import deploy_lock
from deployflow.backends.services import ServiceStatus
from deployflow.core.context import StackContext
from deployflow.core.servicespec import ServiceSpec, service_spec
from deployflow.errors import StackError
from deployflow.ops.journal import read_journal
from deployflow.ops.putback import recover
from deployflow.stages import Log
from deployflow.stages.services import start_specs, status_specs, stop_specs
from deployflow.stages.slots import ensure_proxy, proxy_spec, proxy_status
from deployflow.stages.snapshotfile import load_snapshot

__all__ = ["interrupted_note", "resolve_services", "service_action", "service_statuses"]


def _has_proxy(ctx: StackContext) -> bool:
    """The stack's blue-green proxy, managed as the service `proxy` (unless one is so named)."""
    return ctx.stack.proxy is not None and "proxy" not in ctx.stack.services


def resolve_services(ctx: StackContext, name: str) -> list[ServiceSpec]:
    """`name` (or all): app services as the live release defines them, infrastructure from the
    stack file (the proxy is handled beside them: `service_action`)."""
    if name == "proxy" and _has_proxy(ctx):
        return []
    if name != "all" and name not in ctx.stack.services:
        known = [*ctx.stack.services, *(["proxy"] if _has_proxy(ctx) else [])]
        raise StackError(f"unknown service {name!r}; the stack has: {', '.join(known)}")
    current = current_release(ctx)
    live = (
        load_snapshot(ctx, current).services()
        if current and ctx.layout.snapshot(current).is_file()
        else []
    )
    by_name = {s.name: s for s in live}
    names = list(ctx.stack.services) if name == "all" else [name]
    return [by_name.get(n) or service_spec(ctx, n) for n in names]


def interrupted_note(ctx: StackContext) -> str | None:
    journal = read_journal(ctx.layout)
    if journal is None:
        return None
    return (
        f"a {journal.op} of {journal.release or '?'} was interrupted (phase {journal.phase}); "
        "run `deployflow recover` to put the last good release back"
    )


def service_statuses(ctx: StackContext, name: str) -> list[ServiceStatus]:
    """`name`'s status, or every service's and the blue-green proxy's."""
    statuses = status_specs(resolve_services(ctx, name))
    proxy = proxy_status(ctx) if name in ("all", "proxy") else None
    return statuses + ([proxy] if proxy else [])


def service_action(ctx: StackContext, action: str, name: str, log: Log) -> list[ServiceStatus]:
    """start | stop | restart, holding the lock so no deploy runs meanwhile."""
    with deploy_lock(ctx.layout.lock, f"services {action} {name}"):
        recover(ctx, log)
        specs = resolve_services(ctx, name)
        proxy = proxy_spec(ctx) if name in ("all", "proxy") and _has_proxy(ctx) else None
        statuses = []
        if action in ("stop", "restart"):  # reversed: the proxy first, then what is behind it
            statuses = stop_specs(specs + ([proxy] if proxy else []), log)
        if action in ("start", "restart"):
            statuses = start_specs(specs, log)
            if proxy is not None:  # its config (and upstreams) first, then nginx
                ensure_proxy(ctx, log)
                statuses += [s for s in [proxy_status(ctx)] if s is not None]
        return statuses
