"""The platform's stack: every project with a deployment to serve, as one app each (what the
`deployflow init` detectors planned for its upload), on its own port, behind one proxy that
routes `<subdomain>.<domain>` to it. Pure: plans in, stack data out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from deployflow.core.detect.plan import Plan
from deployflow.core.initstack import stack_data

__all__ = ["PROJECT", "Served", "platform_stack"]

PROJECT = "platform"

Served = tuple[str, str, Plan, int]  # (subdomain, source relative to the stack, plan, port)


def platform_stack(
    served: list[Served], root: Path, domain: str, proxy_port: int
) -> dict[str, Any]:
    data = stack_data(PROJECT, served)
    data["paths"] = {"root": str(root)}
    hosts: dict[str, str] = {}
    for subdomain, *_ in served:
        if subdomain in data.get("services", {}):
            hosts[f"{subdomain}.{domain}"] = subdomain
            data["apps"][subdomain]["url"] = f"http://{subdomain}.{domain}:{proxy_port}/"
    if hosts:
        data["proxy"] = {"listen": proxy_port, "hosts": hosts}
    return data
