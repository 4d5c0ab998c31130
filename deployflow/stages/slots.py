"""Blue-green services: the proxy in front of them, and a release brought live on the idle
slot (started, probed there, traffic switched) while the other slot drains and stops. Which
slot is live is what the service's upstream file says; nothing else is recorded."""

from __future__ import annotations

import time
from functools import partial

from deployflow.backends.files import atomic_write
from deployflow.backends.proxy import (
    connections_to,
    nginx_program,
    prepare_prefix,
    read_upstream,
    reload_proxy,
    retiring_workers,
    switch_upstream,
)
from deployflow.backends.services import ServiceBackend, ServiceStatus, get_backend
from deployflow.backends.services.process import ProcessBackend
from deployflow.backends.services.sockets import listening
from deployflow.core.context import StackContext
from deployflow.core.proxyconf import nginx_conf, upstream_conf, upstream_name
from deployflow.core.servicespec import SLOTS, ServiceSpec, on_slot, service_spec
from deployflow.errors import HealthCheckError, ServiceError
from deployflow.probes.checks import http_probe
from deployflow.probes.wait import wait_until_healthy
from deployflow.stages import Log
from deployflow.stages.certstore import proxy_tls

__all__ = [
    "bring_live",
    "ensure_proxy",
    "proxy_spec",
    "proxy_status",
    "reload_if_running",
    "retire",
    "serving",
    "slot_status",
    "stop_slots",
]

_PROXY = ProcessBackend()  # nginx runs as a process whatever the services' backend


def _on(spec: ServiceSpec) -> ServiceBackend:
    """A slot runs on its service's backend: a process, or a container (one per slot)."""
    return get_backend(spec.backend)


def live_slot(spec: ServiceSpec) -> str | None:
    """The slot the proxy sends the service's traffic to."""
    assert spec.upstream is not None
    port = read_upstream(spec.upstream)
    return SLOTS[spec.slots.index(port)] if port in spec.slots else None


def serving(spec: ServiceSpec) -> ServiceSpec:
    """The spec that serves traffic: a blue-green service's live slot, else itself."""
    return on_slot(spec, live_slot(spec) or SLOTS[0]) if spec.slots else spec


def slot_status(spec: ServiceSpec) -> ServiceStatus:
    live = serving(spec)
    status = _on(live).status(live)
    detail = f"{status.detail} on slot {live.slot}"
    return ServiceStatus(spec.name, status.backend, status.running, status.pid, detail)


def _probe(spec: ServiceSpec) -> None:
    """The slot passes its check (HTTP 200, as an `http:` health check) before any traffic
    goes to it."""
    url = f"http://{spec.host}:{spec.port}{spec.check}"
    try:
        wait_until_healthy([partial(http_probe, url)], spec.start_timeout, 0.1, 0.5)
    except HealthCheckError as exc:
        raise ServiceError(
            f"service {spec.name}: slot {spec.slot} did not pass its check ({exc}); "
            "traffic stays on the live slot"
        ) from None


def bring_live(spec: ServiceSpec, log: Log) -> ServiceSpec | None:
    """Make `spec` serve: start it on the idle slot (or reuse that slot when it already runs
    this very spec, as after a failed deploy), probe it, switch the upstream. Returns the slot
    traffic left, still running, for `retire`; None when nothing else was serving."""
    live = live_slot(spec)
    current = on_slot(spec, live) if live else None
    if current is not None and _on(current).runs(current):
        idle = on_slot(spec, SLOTS[1 - SLOTS.index(current.slot or SLOTS[0])])
        if _on(idle).status(idle).running:  # left by a run that died before it switched
            retire(idle, log)
        return None  # it serves already
    running = current is not None and _on(current).status(current).running
    slot = SLOTS[1 - SLOTS.index(live)] if running and live else (live or SLOTS[0])
    new = on_slot(spec, slot)
    if _on(new).runs(new):
        log(f"{spec.name}: slot {slot} runs this release already")
    else:
        _on(new).stop(new)  # a leftover on the idle slot
        _on(new).start(new)
        try:
            _probe(new)
        except ServiceError:
            _on(new).stop(new)
            raise
        log(f"{spec.name}: started on slot {slot} (port {new.port}), {spec.check} answers")
    switch_upstream(new, log)
    return current if running else None


def retire(spec: ServiceSpec, log: Log) -> None:
    """Stop a slot traffic has left once nginx's old workers and its connections are done
    (at most `drain` seconds)."""
    assert spec.upstream is not None
    deadline = time.monotonic() + spec.drain
    while time.monotonic() < deadline:
        if not retiring_workers(spec.upstream) and not connections_to(spec.port or 0):
            break
        time.sleep(0.05)
    else:
        log(f"{spec.name}: slot {spec.slot} still busy after {spec.drain:.0f}s; stopping it")
    _on(spec).stop(spec)
    log(f"{spec.name}: slot {spec.slot} drained and stopped")


def stop_slots(spec: ServiceSpec) -> ServiceStatus:
    for slot in SLOTS:
        _on(spec).stop(on_slot(spec, slot))
    return ServiceStatus(spec.name, spec.backend, False, None, "both slots stopped")


def proxy_spec(ctx: StackContext) -> ServiceSpec | None:
    """The proxy as a process-backend service (None: the stack declares no proxy)."""
    proxy = ctx.stack.proxy
    if proxy is None:
        return None
    lay = ctx.layout
    return ServiceSpec(
        name="proxy",
        unit=f"{ctx.stack.project}-proxy",
        command=[nginx_program(), "-p", str(lay.proxy), "-c", str(lay.proxy / "nginx.conf")],
        cwd=lay.proxy,
        port=ctx.port(proxy.listen, "proxy.listen"),
        host=ctx.render(proxy.host, "proxy.host"),
        log_file=lay.logs / "proxy.log",
        pid_file=lay.run / "proxy.pid",
    )


def proxy_status(ctx: StackContext) -> ServiceStatus | None:
    """Whether the stack's proxy runs (None: the stack declares none)."""
    spec = proxy_spec(ctx)
    return None if spec is None else _PROXY.status(spec)


def ensure_proxy(ctx: StackContext, log: Log) -> None:
    """Write the proxy's config (and an upstream per routed service, first to its blue slot)
    and start nginx, or reload it when its config changed. No proxy declared: nothing."""
    spec, proxy = proxy_spec(ctx), ctx.stack.proxy
    if spec is None or proxy is None:
        return
    user = prepare_prefix(ctx.layout.proxy)
    moved = False  # a plain service's upstream now points elsewhere: nginx reloads
    upstreams: dict[str, str] = {}
    for name in {*proxy.routes.values(), *proxy.hosts.values()}:
        upstreams[name], changed_port = _upstream(ctx, name)
        moved = moved or changed_port
    routes = {path: upstreams[name] for path, name in proxy.routes.items()}
    hosts = {host: upstreams[name] for host, name in proxy.hosts.items()}
    tls = proxy_tls(ctx, log)
    conf = nginx_conf(ctx.layout.proxy, spec.host, spec.port or 0, routes, user, tls, hosts)
    path = ctx.layout.proxy / "nginx.conf"
    previous = path.read_text() if path.is_file() else None
    changed = previous != conf or moved
    if changed:
        atomic_write(path, conf)
    if not _PROXY.status(spec).running:
        if spec.port and listening(spec.port):  # a service turning blue-green holds it yet
            log(f"proxy: port {spec.port} is taken; nginx starts once the stop stage freed it")
            return
        _PROXY.start(spec)
        log(f"proxy: nginx listening on {spec.host}:{spec.port}")
    elif changed:
        try:
            reload_proxy(ctx.layout.proxy)
        except ServiceError:  # nginx -t refused it: the running config keeps serving
            if previous is not None:
                atomic_write(path, previous)
            raise
        log("proxy: nginx reloaded with its new config")
    if tls is not None and changed:
        log(f"proxy: HTTPS on {spec.host}:{tls.listen} with {tls.cert.name}")


def _upstream(ctx: StackContext, name: str) -> tuple[str, bool]:
    """The upstream a service is proxied through: a blue-green one's slot file (first to its
    blue slot), a plain one's port; and whether a plain one's file changed now."""
    svc = service_spec(ctx, name)
    if svc.upstream is not None:
        if read_upstream(svc.upstream) is None:
            atomic_write(svc.upstream, upstream_conf(svc.upstream.stem, svc.host, svc.slots[0]))
        return svc.upstream.stem, False
    stem = upstream_name(ctx.stack.project, name)
    file = ctx.layout.proxy / "upstreams" / f"{stem}.conf"
    assert svc.port is not None  # the stack's proxy.hosts check
    if read_upstream(file) == svc.port:
        return stem, False
    atomic_write(file, upstream_conf(stem, svc.host, svc.port))
    return stem, True


def reload_if_running(ctx: StackContext, log: Log) -> bool:
    """Reload the proxy (a renewed certificate) when it runs; `nginx -t` first, so a broken
    certificate leaves the running one serving."""
    spec = proxy_spec(ctx)
    if spec is None or not _PROXY.status(spec).running:
        return False
    reload_proxy(ctx.layout.proxy)
    log("proxy: nginx reloaded (certificate)")
    return True
