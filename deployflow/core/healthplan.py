"""Build the probe calls an app's `health:` list asks for, with templates rendered."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from urllib.parse import urlsplit

from deployflow.core.context import ResolvedDatabase, StackContext
from deployflow.core.stack import HealthCheck
from deployflow.errors import StackError
from deployflow.probes import ProbeResult, http_probe, mysql_probe, tcp_probe, ws_probe

__all__ = ["database_probe", "describe_check", "health_probes"]

Probe = Callable[[], ProbeResult]


def _probe(ctx: StackContext, check: HealthCheck, where: str, release_id: str | None) -> Probe:
    target = ctx.render(check.target, where, release_id)
    if check.kind == "http":
        if urlsplit(target).scheme not in ("http", "https"):
            raise StackError(f"{where}.http: {target!r} is not a valid URL")
        expected = check.expect.json_ or {}
        json_subset = {
            k: ctx.render(str(v), f"{where}.expect.json.{k}", release_id)
            for k, v in expected.items()
        }
        return partial(
            http_probe,
            target,
            status=check.expect.status,
            json_subset=json_subset or None,
            contains=check.expect.contains,
            timeout=check.timeout,
        )
    if check.kind == "ws":
        return partial(ws_probe, target, send=check.send, reply=check.reply, timeout=check.timeout)
    if check.kind == "tcp":
        host, _, port = target.rpartition(":")
        if not port.isdigit():
            raise StackError(f"{where}.tcp: {target!r} is not host:port")
        return partial(tcp_probe, host, int(port), timeout=check.timeout)
    return database_probe(ctx.database(target), check.timeout)


def database_probe(db: ResolvedDatabase, timeout: float = 3.0) -> Probe:
    """Log in to a database the way its app does."""
    return partial(
        mysql_probe,
        host=db.host,
        port=db.port,
        user=db.user,
        password=db.password.get_secret_value(),
        database=db.database,
        timeout=timeout,
    )


def health_probes(ctx: StackContext, app: str, release_id: str | None = None) -> list[Probe]:
    checks = ctx.stack.apps[app].health
    return [_probe(ctx, c, f"apps.{app}.health[{i}]", release_id) for i, c in enumerate(checks)]


def describe_check(ctx: StackContext, app: str, index: int, release_id: str | None) -> str:
    check = ctx.stack.apps[app].health[index]
    return f"{check.kind} {ctx.render(check.target, f'apps.{app}.health[{index}]', release_id)}"
