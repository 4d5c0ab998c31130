"""`deployflow health [--watch] [--interval 5] [--json]`: one table of services, checks, host
and release, graded against `health.thresholds`; exit 0 healthy, 1 degraded, 2 down."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Annotated, Any

import typer

from deployflow.cli.common import RootOpt, StackOpt, echo_json, load

if TYPE_CHECKING:
    from rich.table import Table

COLOUR = {"ok": "green", "degraded": "yellow", "down": "red"}


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.0f}{unit}"
    return f"{seconds:.0f}s"


def _num(value: float | None, fmt: str) -> str:
    return "-" if value is None else format(value, fmt)


COLUMNS = ("kind", "name", "state", "pid", "cpu %", "memory MB", "up", "restarts", "port")
NUMERIC = ("cpu %", "memory MB", "up", "restarts")
DROP_FIRST = ("restarts", "pid", "cpu %", "up", "memory MB", "kind")  # below ~100 columns


def _rows(report: dict[str, Any]) -> list[tuple[dict[str, str], str]]:
    """One row per service, check, queue and the host: cells by column, and the row's grade."""
    rows = []
    for s in report["services"]:
        port = "-" if s["port"] is None else f"{s['port']} {'open' if s['port_open'] else 'shut'}"
        cells = {
            "kind": "service",
            "name": s["name"],
            "state": "running" if s["running"] else "stopped",
            "pid": str(s["pid"] or "-"),
            "cpu %": _num(s["cpu"], ".0f"),
            "memory MB": _num(s["rss_mb"], ".0f"),
            "up": _age(s["uptime_s"]),
            "restarts": "-" if s["restarts"] is None else str(s["restarts"]),
            "port": port,
            "detail": "; ".join(s["reasons"]),
        }
        rows.append((cells, s["grade"]))
    for c in report["checks"]:
        cells = {"kind": "check", "name": c["name"], "state": "ok" if c["ok"] else "FAILING"}
        cells |= {"port": f"{c['ms']:.0f} ms", "detail": "; ".join(c["reasons"]) or c["detail"]}
        rows.append((cells, c["grade"]))
    for q in report["queues"]:
        pending = "-" if q["pending"] is None else f"{q['pending']} pending"
        failed = "-" if q["failed"] is None else f"{q['failed']} failed"
        cells = {"kind": "queue", "name": q["app"], "state": pending}
        rows.append((cells | {"detail": "; ".join(q["reasons"]) or failed}, q["grade"]))
    for c in report.get("certs", []):
        left = "-" if c["days_left"] is None else f"{c['days_left']} days"
        cells = {"kind": "cert", "name": c["name"], "state": left, "detail": c["detail"]}
        rows.append((cells, c["grade"]))
    host = report["host"]
    disks = ", ".join(f"{k} {v:.1f} GB free" for k, v in host["disk_free_gb"].items())
    cells = {"kind": "host", "name": "cpu/ram/load", "state": f"load {host['load'][0]:.2f}"}
    cells |= {
        "cpu %": f"{host['cpu']:.0f}",
        "memory MB": f"{host['ram_used_mb']:.0f}/{host['ram_total_mb']:.0f}",
        "detail": "; ".join(host["reasons"]) or disks,
    }
    rows.append((cells, host["grade"]))
    return rows


def render(report: dict[str, Any], width: int = 200) -> Table:
    """The report as one Rich table (rows coloured by grade) fitting `width` columns: the
    least needed columns dropped when narrow; names never cut; only the detail wraps."""
    from rich.table import Table

    from deployflow.core.tablefit import fit_columns

    release = report["release"]
    last = release["last_deploy"] or {}
    title = (
        f"{report['verdict'].upper()}  live {release['live'] or 'none'} "
        f"({_age(release['age_s'])} old), last deploy {last.get('release', '-')}: "
        f"{last.get('status', '-')}"
    )
    rows = _rows(report)
    shown = fit_columns((*COLUMNS, "detail"), [r for r, _g in rows], width, DROP_FIRST)
    table = Table(title=title, title_justify="left", expand=False)
    for column in shown:
        free = column == "detail"
        table.add_column(
            column,
            justify="right" if column in NUMERIC else "left",
            no_wrap=not free,
            overflow="fold" if free else "ignore",
            min_width=max(len(r.get(column, "")) for r, _g in rows) if column == "name" else None,
        )
    for cells, grade in rows:
        table.add_row(*(cells.get(c, "") for c in shown), style=COLOUR[grade])
    return table


def health(
    stack: StackOpt = "deployflow.yaml",
    root: RootOpt = None,
    watch: Annotated[bool, typer.Option("--watch", help="Refresh in place until Ctrl-C.")] = False,
    interval: Annotated[
        float, typer.Option("--interval", min=0.5, help="Seconds between sweeps with --watch.")
    ] = 5.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Services, health checks, host and release in one table; exit 0 healthy, 1 degraded,
    2 down."""
    from rich.console import Console

    from deployflow.ops.healthview import health_report

    ctx = load(stack, root, read_only=True)
    if as_json:  # one JSON document per sweep
        report = health_report(ctx)
        echo_json(report)
        while watch:
            time.sleep(interval)
            report = health_report(ctx)
            echo_json(report)
        raise typer.Exit(report["exit"])
    console = Console()
    if not watch:
        report = health_report(ctx)
        console.print(render(report, console.width))
        raise typer.Exit(report["exit"])
    from rich.live import Live

    report = health_report(ctx)
    try:
        with Live(render(report, console.width), console=console, auto_refresh=False) as live:
            while True:
                time.sleep(interval)
                report = health_report(ctx)
                live.update(render(report, console.width), refresh=True)
    except KeyboardInterrupt:
        raise typer.Exit(report["exit"]) from None
