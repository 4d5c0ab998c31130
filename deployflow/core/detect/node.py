"""Node apps: package.json and its lock file (npm, yarn or pnpm), a `build` script, a `start`
script or an Express-style server on $PORT, or the static output of a Vite-style build."""

from __future__ import annotations

import json

from deployflow.core.detect.files import Tree
from deployflow.core.detect.plan import Plan

__all__ = ["detect"]

STATIC_SERVER = ["{{ sys.python }}", "-m", "http.server", "{{ PORT }}", "--bind", "127.0.0.1"]
_INSTALL = {
    "npm": ["npm", "ci"],
    "yarn": ["yarn", "install", "--frozen-lockfile"],
    "pnpm": ["pnpm", "install", "--frozen-lockfile"],
}


def _manager(tree: Tree, plan: Plan) -> str:
    for lock, manager in (
        ("pnpm-lock.yaml", "pnpm"),
        ("yarn.lock", "yarn"),
        ("package-lock.json", "npm"),
    ):
        if tree.has(lock):
            plan.why(f"node: {lock} -> {' '.join(_INSTALL[manager])}")
            return manager
    plan.why("node: no lock file -> npm install (add package-lock.json for repeatable builds)")
    return "npm"


def detect(tree: Tree) -> Plan | None:
    if not tree.has("package.json"):
        return None
    try:
        package = json.loads(tree.text("package.json") or "{}")
    except ValueError:
        package = {}
    plan = Plan(kind="node")
    manager = _manager(tree, plan)
    locked = manager != "npm" or tree.has("package-lock.json")
    install = _INSTALL[manager] if locked else ["npm", "install"]
    lock = {"npm": "package-lock.json", "yarn": "yarn.lock", "pnpm": "pnpm-lock.yaml"}[manager]
    inputs = ["package.json", lock] if tree.has(lock) else ["package.json"]
    plan.deps = {"inputs": inputs, "steps": [list(install)], "paths": ["node_modules"]}
    engine = (package.get("engines") or {}).get("node")
    if isinstance(engine, str) and engine.strip():
        plan.runtime = ("node", engine.strip())
    scripts = package.get("scripts") or {}
    deps = {**(package.get("dependencies") or {}), **(package.get("devDependencies") or {})}
    run = "npm" if manager == "npm" else manager
    if "build" in scripts:
        plan.build.append([run, "run", "build"])
        plan.why(f"node: a build script -> {run} run build")
    if "start" in scripts:
        plan.start = [run, "start"] if manager != "npm" else ["npm", "start"]
        plan.framework = "express" if "express" in deps else None
        plan.why(f"node: a start script -> web via {run} start, on $PORT")
        return plan
    main = package.get("main") or next(
        (f for f in ("server.js", "index.js", "app.js") if tree.has(f)), None
    )
    if main and tree.has(main):
        plan.start = ["node", main]
        plan.framework = "express" if "express" in deps else None
        plan.why(f"node: {main} -> web via node {main}, on $PORT")
        return plan
    if "vite" in deps or "build" in scripts:
        plan.framework = "vite" if "vite" in deps else "static-build"
        plan.start = [*STATIC_SERVER, "--directory", "dist"]
        plan.why("node: a build with no server -> dist/ served as static files")
        return plan
    plan.warnings.append("node: no start script, main file or build; add a Procfile web: line")
    return plan
