"""Go (go.mod and a main package), PHP/Laravel (artisan) and static sites (index.html)."""

from __future__ import annotations

import re

from deployflow.core.detect.files import Tree
from deployflow.core.detect.node import STATIC_SERVER
from deployflow.core.detect.plan import Plan

__all__ = ["detect_go", "detect_php", "detect_static"]


def detect_go(tree: Tree) -> Plan | None:
    if not tree.has("go.mod"):
        return None
    plan = Plan(kind="go")
    mains = [
        f for f in tree.glob(".go", depth=2) if re.search(r"^package main\b", tree.text(f), re.M)
    ]
    if not mains:
        plan.warnings.append("go: no package main found; say what to build and run")
        return plan
    folder = mains[0].rpartition("/")[0] or "."
    target = "." if folder == "." else f"./{folder}"
    plan.build.append(["go", "build", "-o", "bin/app", target])
    plan.start = ["./bin/app"]
    plan.framework = "net/http" if any("net/http" in tree.text(f) for f in mains) else None
    plan.why(f"go: go.mod, package main in {folder} -> go build -o bin/app {target}; web on $PORT")
    if re.search(r"^require\b", tree.text("go.mod"), re.M) and "vendor" not in tree.dirs:
        plan.warnings.append(
            "go: modules beyond the standard library need a module proxy this machine may not "
            "reach; vendor them (go mod vendor) to build offline"
        )
    return plan


def detect_php(tree: Tree) -> Plan | None:
    if not tree.has("artisan"):
        return None
    plan = Plan(kind="php", framework="laravel")
    plan.build += [
        ["composer", "install", "--no-dev", "--prefer-dist", "--no-interaction"],
        ["php", "artisan", "config:cache"],
    ]
    plan.release.append(["php", "artisan", "migrate", "--force"])
    plan.shared.append("storage/")
    plan.start = ["php", "-S", "127.0.0.1:{{ PORT }}", "-t", "public"]
    plan.why(
        "laravel: artisan -> composer install, release `artisan migrate --force`, storage/ "
        "shared, web via php -S on public/"
    )
    return plan


def detect_static(tree: Tree) -> Plan | None:
    for folder in (".", "public", "site", "_site"):
        index = "index.html" if folder == "." else f"{folder}/index.html"
        if tree.has(index):
            plan = Plan(kind="static")
            plan.start = list(STATIC_SERVER)
            if folder != ".":
                plan.start += ["--directory", folder]
            plan.why(f"static: {index} -> served as files (python -m http.server)")
            return plan
    return None
