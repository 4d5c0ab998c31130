"""An app's `health:` list rendered into check specs (data): what to probe, where, expecting
what. A release snapshot stores them; `probes.probe_for` turns one into a probe call."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urlsplit

from deployflow.core.context import StackContext
from deployflow.core.stack import HealthCheck
from deployflow.errors import StackError

__all__ = ["CheckSpec", "check_from_dict", "check_specs", "check_to_dict"]


@dataclass(frozen=True)
class CheckSpec:
    kind: str  # http | ws | tcp | mysql | postgres
    target: str  # URL, host:port, or a database name for mysql and postgres
    status: int = 200
    json_subset: dict[str, str] = field(default_factory=dict)
    contains: str | None = None
    send: str | None = None
    reply: str | None = None
    timeout: float = 3.0
    insecure: bool = False  # https without verifying the chain (said in every result)

    @property
    def name(self) -> str:
        return f"{self.kind} {self.target}"


def _spec(ctx: StackContext, check: HealthCheck, where: str, release_id: str | None) -> CheckSpec:
    target = ctx.render(check.target, where, release_id)
    if check.kind == "http" and urlsplit(target).scheme not in ("http", "https"):
        raise StackError(f"{where}.http: {target!r} is not a valid URL")
    if check.kind == "tcp" and not target.rpartition(":")[2].isdigit():
        raise StackError(f"{where}.tcp: {target!r} is not host:port")
    expected = check.expect.json_ or {}
    return CheckSpec(
        kind=check.kind,
        target=target,
        status=check.expect.status,
        json_subset={
            k: ctx.render(str(v), f"{where}.expect.json.{k}", release_id)
            for k, v in expected.items()
        },
        contains=check.expect.contains,
        send=check.send,
        reply=check.reply,
        timeout=check.timeout,
        insecure=check.insecure,
    )


def check_specs(ctx: StackContext, app: str, release_id: str | None) -> list[CheckSpec]:
    checks = ctx.stack.apps[app].health
    return [_spec(ctx, c, f"apps.{app}.health[{i}]", release_id) for i, c in enumerate(checks)]


def check_to_dict(spec: CheckSpec) -> dict[str, Any]:
    return asdict(spec)


def check_from_dict(data: dict[str, Any]) -> CheckSpec:
    return CheckSpec(**data)
