"""A Procfile (web, worker, release) and Heroku's app.json over what detection decided: the
app's own word wins. `$PORT` in a command becomes the app's port."""

from __future__ import annotations

import json
import re
import shlex

from deployflow.core.detect.files import Tree
from deployflow.core.detect.plan import Plan

__all__ = ["apply_procfile", "parse_procfile"]

_PORT = re.compile(r"\$\{?PORT\}?")


def parse_procfile(text: str) -> dict[str, list[str]]:
    """{process type: argv}; `$PORT` becomes the port template."""
    found = {}
    for line in text.splitlines():
        name, sep, command = line.partition(":")
        name = name.strip()
        if not sep or not re.fullmatch(r"[A-Za-z0-9_-]+", name) or line.lstrip().startswith("#"):
            continue
        found[name] = [_PORT.sub("{{ PORT }}", arg) for arg in shlex.split(command)]
    return found


def apply_procfile(plan: Plan, tree: Tree) -> Plan:
    procs = parse_procfile(tree.text("Procfile")) if tree.has("Procfile") else {}
    if "web" in procs:
        plan.start = procs["web"]
        plan.warnings = [w for w in plan.warnings if "Procfile web:" not in w]  # it has one
        plan.why("Procfile: web -> the web service")
    if "release" in procs:
        plan.release = [procs["release"]]
        plan.why("Procfile: release -> the release phase")
    for name, argv in procs.items():
        if name not in ("web", "release"):
            plan.workers[name] = argv
            plan.why(f"Procfile: {name} -> a service without a port")
    if tree.has("app.json"):
        try:
            manifest = json.loads(tree.text("app.json"))
        except ValueError:
            manifest = {}
        for key, spec in (manifest.get("env") or {}).items():
            value = spec.get("value") if isinstance(spec, dict) else spec
            if isinstance(value, str) and not (isinstance(spec, dict) and spec.get("generator")):
                plan.env[key] = value
        if plan.env:
            plan.why(f"app.json: env {', '.join(sorted(plan.env))}")
    return plan
