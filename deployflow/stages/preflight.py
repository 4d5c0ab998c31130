"""Preflight: every check runs and all failures are reported together."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from deployflow.backends.engines import engine_for
from deployflow.backends.executor import Command, resolve_program, run
from deployflow.backends.services.sockets import ephemeral_range, listening
from deployflow.core.configs import render_configs
from deployflow.core.context import StackContext
from deployflow.core.servicespec import service_spec
from deployflow.errors import DeployflowError, PreflightError
from deployflow.probes import ProbeResult, database_probe, wait_until_healthy
from deployflow.stages import Log
from deployflow.stages.appsteps import rendered_steps
from deployflow.stages.services import ensure_infrastructure, status_specs

__all__ = ["PROBE_RELEASE", "Check", "run_preflight", "say_check", "verdict"]

PROBE_RELEASE = "00000000000000"  # the release id templates see when checked before a deploy

MIN_FREE_BYTES = 200 * 1024 * 1024
WARN_FREE_BYTES = 1024 * 1024 * 1024


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    critical: bool
    detail: str


def _on_host(program: str) -> bool:
    """A program from PATH or an absolute path; relative ones live inside the release."""
    return "/" not in program or program.startswith("/")


def _tool_checks(ctx: StackContext, apps: list[str]) -> list[Check]:
    tools: dict[str, str] = {}
    for app in apps:
        for step in rendered_steps(ctx, app):
            if _on_host(step[0]):
                tools.setdefault(step[0], f"apps.{app}")
    for name in ctx.stack.services:
        spec = service_spec(ctx, name)
        if spec.command and _on_host(spec.command[0]):
            tools.setdefault(spec.command[0], f"services.{name}")
    checks = []
    for tool, user in sorted(tools.items()):
        path = resolve_program(tool)
        if path is None:
            checks.append(Check(f"tool {tool}", False, True, f"not found (needed by {user})"))
            continue
        try:  # a tool without --version (sh) says so on an error exit: then its path is shown
            done = run(Command.of([path, "--version"], timeout=10), check=False)
            lines = [line for line in done.tail if line.strip()] if done.returncode == 0 else []
            version = lines[0] if lines else path
        except DeployflowError:
            version = path
        checks.append(Check(f"tool {tool}", True, False, version.strip()[:80]))
    return checks


def _port_checks(ctx: StackContext) -> list[Check]:
    specs = [service_spec(ctx, name) for name in ctx.stack.services]
    ours = {s.name for s in status_specs(specs) if s.running}
    checks = []
    for spec in specs:
        name, port = spec.name, spec.port
        if port is None:
            continue
        if not listening(port):
            low, high = ephemeral_range()
            note = ""
            if low <= port <= high:  # not refused: said
                note = (
                    f" (in the kernel's ephemeral range {low}-{high}: an "
                    "outgoing connection can take it before the service binds; prefer one "
                    "below it)"
                )
            checks.append(Check(f"port {port}", True, True, f"free for {name}{note}"))
        elif name in ours:
            checks.append(Check(f"port {port}", True, True, f"held by our service {name}"))
        else:
            checks.append(
                Check(
                    f"port {port}",
                    False,
                    True,
                    f"taken by another process; stop it or give {name} another port",
                )
            )
    return checks


def _disk_check(root: Path) -> Check:
    probe = root
    while not probe.exists():
        probe = probe.parent
    free = shutil.disk_usage(probe).free
    detail = f"{free / 2**30:.1f} GiB free under {probe}"
    if free < MIN_FREE_BYTES:
        return Check("disk space", False, True, detail)
    return Check("disk space", free >= WARN_FREE_BYTES, False, detail)


def _config_check(ctx: StackContext, apps: list[str]) -> Check:
    try:
        rendered = render_configs(ctx, apps, PROBE_RELEASE)
    except DeployflowError as exc:
        return Check("config templates", False, True, str(exc))
    return Check("config templates", True, True, f"{len(rendered)} rendered")


def _database_checks(ctx: StackContext) -> list[Check]:
    """Provision over the admin socket or URL when there is one, then log in as the app would."""
    checks = []
    for name in ctx.stack.databases:
        db = ctx.database(name)
        login = database_probe(db)
        try:
            if db.admin_socket:
                socket = db.admin_socket
                if db.engine == "postgresql":  # a directory holding the server's socket
                    socket = f"{socket}/.s.PGSQL.{db.port}"
                wait_until_healthy([partial(_socket_probe, socket)], 30, interval=0.2)
            engine_for(db).provision(db)  # when the stack says how (admin socket or URL)
            result = wait_until_healthy([login], deadline=15, interval=0.2)[0]
            checks.append(Check(f"database {name}", True, True, result.detail))
        except DeployflowError as exc:
            checks.append(Check(f"database {name}", False, True, str(exc)))
    return checks


def _socket_probe(path: str) -> ProbeResult:
    ok = Path(path).is_socket()
    return ProbeResult(f"socket {path}", ok, "present" if ok else "missing", 0.0)


def _backup_checks(ctx: StackContext) -> list[Check]:
    """A backup that names `database` with no database declared would dump nothing."""
    if "database" in ctx.stack.backup.include and not ctx.stack.databases:
        why = "backup.include names database, but the stack declares none: no dump is made"
        return [Check("backups", False, False, why)]
    return []


def run_preflight(ctx: StackContext, apps: list[str], log: Log) -> list[Check]:
    """Start infrastructure services, then run every check; nothing here changes a release."""
    checks: list[Check] = []
    try:
        ensure_infrastructure(ctx, log)
    except DeployflowError as exc:
        checks.append(Check("infrastructure services", False, True, str(exc)))
    checks.append(_config_check(ctx, apps))
    checks.append(_disk_check(ctx.root))
    checks.extend(_tool_checks(ctx, apps))
    checks.extend(_port_checks(ctx))
    checks.extend(_database_checks(ctx))
    checks.extend(_backup_checks(ctx))
    for check in checks:
        say_check(check, log)
    return checks


def say_check(check: Check, log: Log) -> None:
    mark = "ok" if check.ok else ("FAIL" if check.critical else "warn")
    log(f"preflight {mark:4} {check.name}: {check.detail}")


def verdict(checks: list[Check], force: bool) -> str:
    """Critical failures always stop a deploy; warnings stop it unless forced."""
    critical = [c for c in checks if not c.ok and c.critical]
    warnings = [c for c in checks if not c.ok and not c.critical]
    if critical:
        raise PreflightError(
            "preflight failed: " + "; ".join(f"{c.name}: {c.detail}" for c in critical)
        )
    if warnings and not force:
        raise PreflightError(
            "preflight warnings (deploy anyway with --force): "
            + "; ".join(f"{c.name}: {c.detail}" for c in warnings)
        )
    return f"{len(checks)} checks, {len(warnings)} warnings"
