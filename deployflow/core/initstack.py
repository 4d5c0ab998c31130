"""The stack file `deployflow init` writes from detection plans: ordinary YAML the user keeps
and edits (one app per directory, a service on its own port, a health check, a URL)."""

from __future__ import annotations

import re
import shlex
from pathlib import PurePosixPath
from typing import Any

import yaml

from deployflow.core.detect.plan import Plan

__all__ = ["app_name", "stack_data", "stack_text"]

PORT = "{{ PORT }}"


def app_name(source: str, plan: Plan, taken: set[str]) -> str:
    base = "web" if source == "." else PurePosixPath(source).name
    name = re.sub(r"[^a-z0-9_-]+", "-", base.lower()).strip("-_") or plan.kind
    name = name if re.match(r"^[a-z0-9]", name) else f"app-{name}"
    candidate, n = name, 2
    while candidate in taken:
        candidate, n = f"{name}-{n}", n + 1
    return candidate


def _ported(argv: list[str], var: str) -> list[str]:
    return [a.replace(PORT, f"{{{{ {var} }}}}") for a in argv]


def stack_data(project: str, apps: list[tuple[str, str, Plan, int]]) -> dict[str, Any]:
    """(name, source relative to the stack, plan, port) per app -> the stack as data."""
    data: dict[str, Any] = {"project": project, "vars": {}, "paths": {}, "apps": {}}
    data["paths"] = {"root": f"~/deployflow/{project}"}
    services: dict[str, Any] = {}
    databases: dict[str, Any] = {}
    for name, source, plan, port in apps:
        var = f"{name.upper().replace('-', '_')}_PORT"
        data["vars"][var] = str(port)
        app: dict[str, Any] = {"source": source}
        if source.startswith(".."):
            app["allow_outside"] = True
        if plan.recipe:
            app["recipe"] = plan.recipe
        if plan.python:
            app["python"] = dict(plan.python)
        if plan.deps:
            app["deps"] = dict(plan.deps)
        if plan.build:
            app["steps"] = [_ported(step, var) for step in plan.build]
        if plan.tests:
            app["tests"] = [_ported(step, var) for step in plan.tests]
        if plan.release:
            app["release"] = [_ported(step, var) for step in plan.release]
        if plan.shared:
            app["shared"] = list(plan.shared)
        if plan.env:
            app["env"] = dict(plan.env)
        app["services"] = []
        if plan.start:
            services[name] = {
                "command": shlex.join(_ported(plan.start, var)),
                "port": f"{{{{ {var} }}}}",
            }
            app["services"].append(name)
            url = f"http://127.0.0.1:{{{{ {var} }}}}"
            app["health"] = [{"http": url + plan.health}]
            app["url"] = url + "/"
        for worker, argv in plan.workers.items():
            services[f"{name}-{worker}"] = {"command": shlex.join(_ported(argv, var))}
            app["services"].append(f"{name}-{worker}")
        if plan.sqlite:
            db = f"{name}-db"
            databases[db] = {"engine": "sqlite", "path": f"{name}/{plan.sqlite}"}
        data["apps"][name] = app
    if services:
        data["services"] = services
    if databases:
        data["databases"] = databases
        data["backup"] = {"include": ["configs", "release", "database", "files"]}
    return data


class _Dumper(yaml.SafeDumper):
    """Block style for the stack's structure, one line per argv list (as people write them)."""

    def represent_list(self, data: list) -> yaml.Node:
        flow = all(isinstance(item, str) for item in data)
        return self.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flow)


_Dumper.add_representer(list, _Dumper.represent_list)


def _hosts_proposal(data: dict[str, Any]) -> str:
    """A commented proxy block routing `<app>.localhost` to each app's web service."""
    webs = [name for name in data.get("apps", {}) if name in data.get("services", {})]
    if not webs:
        return ""
    hosts = ", ".join(f"{name}.localhost: {name}" for name in webs)
    return (
        "# Route by host name through deployflow's nginx (uncomment; for HTTPS add\n"
        "# `listen_tls: 8443` and `cert: site`, made on first use for these names):\n"
        "# proxy:\n"
        "#   listen: 8080\n"
        f"#   hosts: {{{hosts}}}\n"
    )


def stack_text(data: dict[str, Any], reasons: list[str]) -> str:
    head = "# written by `deployflow init`; yours to edit. What it decided, and why:\n"
    head += "".join(f"#   {line}\n" for line in reasons)
    body = yaml.dump(data, Dumper=_Dumper, sort_keys=False, width=100)
    return head + body + _hosts_proposal(data)
