"""Everything `deployflow health` shows, gathered at once: each service (state, pid, CPU and
memory of its process tree, uptime, restarts since the release went live, its port open), each
app's job queue (pending and failed rows), each health check of the live release
(probed concurrently, each with its own timeout), the host (CPU, RAM, load, free disk under the
deploy root and the database data dir), the live release and the last deploy; graded against
`health.thresholds`."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from deployflow.backends.engines import engine_for
from deployflow.backends.history import current_release, load_history
from deployflow.backends.metrics import host_usage, tree_usage
from deployflow.backends.services import get_backend
from deployflow.backends.services.sockets import listening
from deployflow.core.context import StackContext
from deployflow.core.healthgrade import (
    grade_check,
    grade_host,
    grade_queue,
    grade_service,
    overall,
    restarts_since,
)
from deployflow.core.history import IN_PROGRESS
from deployflow.errors import DeployflowError
from deployflow.ops.certs import cert_rows
from deployflow.ops.health import sweep
from deployflow.ops.services import resolve_services
from deployflow.stages.services import status_specs
from deployflow.stages.slots import proxy_spec, serving

__all__ = ["health_report", "report_rows"]


def _live_since(ctx: StackContext) -> str | None:
    """When the live release went live (its services' deploy starts come before it)."""
    live = current_release(ctx)
    return next((r.updated for r in load_history(ctx) if r.id == live), None)


def _services(ctx: StackContext, th: dict[str, float | None]) -> list[dict[str, Any]]:
    proxy = proxy_spec(ctx)  # the blue-green proxy serves too, though no app owns it
    specs = resolve_services(ctx, "all") + ([proxy] if proxy else [])
    since = _live_since(ctx)
    statuses = status_specs(specs)
    usage = tree_usage({s.name: s.pid for s in statuses if s.running})
    rows = []
    for spec, s in zip(specs, statuses, strict=True):
        row: dict[str, Any] = {
            "name": s.name,
            "app": spec.app,
            "running": s.running,
            "pid": s.pid,
            "port": spec.port,
            "port_open": listening(spec.port) if s.running and spec.port else None,
            "restarts": restarts_since(get_backend(spec.backend).starts(serving(spec)), since),
            **usage.get(s.name, {"cpu": None, "rss_mb": None, "uptime_s": None, "processes": 0}),
        }
        try:  # a container: what its engine measures (and counts) wins
            row.update(get_backend(spec.backend).usage(serving(spec)) or {})
        except DeployflowError as exc:
            row["detail"] = str(exc)
        row["grade"], row["reasons"] = grade_service(row, th)
        rows.append(row)
    return rows


def _queues(ctx: StackContext, th: dict[str, float | None]) -> list[dict[str, Any]]:
    rows = []
    for app_name, app in ctx.stack.apps.items():
        if app.queue is None:
            continue
        q = app.queue
        row: dict[str, Any] = {"app": app_name, "pending": None, "failed": None, "error": None}
        try:
            db = ctx.database(q.database)
            counts = engine_for(db).count_rows(db, [q.pending, q.failed])
            row["pending"], row["failed"] = counts[q.pending], counts[q.failed]
        except DeployflowError as exc:
            row["error"] = str(exc)
        row["grade"], row["reasons"] = grade_queue(row, th)
        rows.append(row)
    return rows


def _release(ctx: StackContext) -> dict[str, Any]:
    live = current_release(ctx)
    records = load_history(ctx)
    last = next((r for r in reversed(records) if r.status not in IN_PROGRESS), None)
    age = None
    if live:
        created = datetime.strptime(live[:14], "%Y%m%d%H%M%S").replace(tzinfo=UTC)
        age = (datetime.now(UTC) - created).total_seconds()
    return {
        "live": live,
        "age_s": age,
        "last_deploy": {"release": last.id, "status": last.status, "note": last.note}
        if last
        else None,
    }


def health_report(ctx: StackContext) -> dict[str, Any]:
    """One sweep of everything, graded; `exit` is 0 healthy, 1 degraded, 2 down."""
    th = ctx.stack.health.thresholds.model_dump()
    with ThreadPoolExecutor(max_workers=2) as pool:
        checks_job = pool.submit(sweep, ctx)  # the probes wait on the network meanwhile
        queues_job = pool.submit(_queues, ctx, th)
        services = _services(ctx, th)
        results = checks_job.result()
        queues = queues_job.result()
    checks = []
    for r in results:
        row = {"name": r.name, "ok": r.ok, "ms": r.ms, "detail": r.detail}
        row["grade"], row["reasons"] = grade_check(row, th)
        checks.append(row)
    paths = {"deploy root": ctx.root}
    for name, svc in ctx.stack.services.items():
        if svc.creates:  # an infrastructure service's data dir (the database's)
            paths[f"{name} data"] = Path(ctx.render(svc.creates, f"services.{name}.creates"))
    host = host_usage(paths)
    host["grade"], host["reasons"] = grade_host(host, th)
    certs = [
        {k: row.get(k) for k in ("name", "grade", "detail", "days_left", "domains")}
        for row in cert_rows(ctx)
    ]
    grades = [r["grade"] for r in services + checks + queues + certs] + [host["grade"]]
    verdict, code = overall(grades)
    return {
        "verdict": verdict,
        "exit": code,
        "services": services,
        "checks": checks,
        "queues": queues,
        "certs": certs,
        "host": host,
        "release": _release(ctx),
        "thresholds": th,
    }


def report_rows(report: dict[str, Any]) -> list[dict[str, Any]]:
    """One flat row per service, check and the host: name, grade and why (artifacts, alerts)."""
    rows = [
        {"row": f"service {s['name']}", "grade": s["grade"], "detail": "; ".join(s["reasons"])}
        for s in report["services"]
    ]
    rows += [
        {
            "row": f"check {c['name']}",
            "grade": c["grade"],
            "detail": "; ".join(c["reasons"]) or f"{c['ms']:.0f} ms",
        }
        for c in report["checks"]
    ]
    rows += [
        {"row": f"queue {q['app']}", "grade": q["grade"], "detail": "; ".join(q["reasons"])}
        for q in report["queues"]
    ]
    rows += [
        {"row": f"cert {c['name']}", "grade": c["grade"], "detail": c["detail"]}
        for c in report.get("certs", [])
    ]
    host = report["host"]
    rows.append({"row": "host", "grade": host["grade"], "detail": "; ".join(host["reasons"])})
    return rows
