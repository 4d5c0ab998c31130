"""`deployflow init`: detect the app in each directory and write a stack file for them, with
every decision and its reason; an existing stack file is never overwritten unasked."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Any

from deployflow.backends.baseimage import BASE_REPO
from deployflow.backends.executor import Command, run
from deployflow.backends.files import atomic_write
from deployflow.backends.services.sockets import free_port_from
from deployflow.backends.sourcetree import detect_in
from deployflow.core.detect.runtime import runtime_mismatch
from deployflow.core.dockerfile import image_recipe, render_dockerfile
from deployflow.core.initstack import app_name, stack_data, stack_text
from deployflow.core.stack import Stack
from deployflow.errors import CommandError, UsageError

__all__ = ["as_containers", "init_stack"]

FIRST_PORT = 8000


def _installed(kind: str) -> str:
    """The version of the runtime deployflow builds with: its own Python, PATH's node."""
    if kind == "python":
        return ".".join(str(n) for n in sys.version_info[:3])
    try:
        done = run(Command.of(["node", "--version"], timeout=10), check=False)
    except CommandError:  # not installed, or hung
        return "none"
    return (done.tail[-1] if done.tail and done.returncode == 0 else "v").lstrip("v") or "none"


def as_containers(
    data: dict[str, Any], found: list[tuple[str, str, Any, int]], base: Path, force: bool
) -> None:
    """Each app as a container: `docker: {}`, its web service on the docker backend, and its
    Dockerfile written beside its source for the user to keep (an existing one is kept)."""
    for name, source, plan, port in found:
        if name not in data.get("services", {}):
            continue
        folder = base / source
        target = folder / "Dockerfile"
        if not target.exists() or force:
            files = {p.name for p in folder.iterdir()}
            recipe = image_recipe(plan, files, port)
            atomic_write(target, render_dockerfile(recipe, f"{BASE_REPO}:bookworm"))
        app = data["apps"][name]
        for key in ("recipe", "python", "deps", "steps"):
            app.pop(key, None)  # the image builds it
        app["docker"] = {}
        service = data["services"][name]
        data["services"][name] = {"backend": "docker", "port": service["port"]}


def init_stack(
    stack_file: Path, dirs: list[Path], force: bool = False, docker: bool = False
) -> dict[str, Any]:
    """Write `stack_file` for the apps in `dirs`; returns what was decided, per app."""
    if stack_file.exists() and not force:
        raise UsageError(
            f"{stack_file} exists and is yours; edit it, or give --force to write it anew"
        )
    base = stack_file.resolve().parent
    found: list[tuple[str, str, Any, int]] = []
    report: dict[str, Any] = {}
    reasons: list[str] = []
    ports: set[int] = set()
    for directory in dirs:
        if not directory.is_dir():
            raise UsageError(f"{directory} is not a directory")
        plan = detect_in(directory.resolve())
        if plan.runtime is not None:
            warning = runtime_mismatch(*plan.runtime, _installed(plan.runtime[0]))
            if warning:
                plan.warnings.append(warning)
        source = Path(os.path.relpath(directory.resolve(), base)).as_posix()
        name = app_name(source, plan, {n for n, *_ in found})
        port = free_port_from(FIRST_PORT, ports)
        ports.add(port)
        found.append((name, source, plan, port))
        reasons += [f"{name}: {line}" for line in plan.reasons]
        reasons += [f"{name}: warning: {line}" for line in plan.warnings]
        report[name] = {
            "source": source,
            "kind": plan.kind,
            "framework": plan.framework,
            "port": port,
            "reasons": plan.reasons,
            "warnings": plan.warnings,
        }
    project = re.sub(r"[^a-z0-9_-]+", "-", base.name.lower()).strip("-_") or "app"
    data = stack_data(project if re.match(r"^[a-z0-9]", project) else f"app-{project}", found)
    if docker:
        as_containers(data, found, base, force)
    Stack.model_validate(data)  # what is written loads
    atomic_write(stack_file, stack_text(data, reasons))
    return {"stack": str(stack_file), "apps": report}
