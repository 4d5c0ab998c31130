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


def render(report: dict[str, Any]) -> Table:
    """The report as one Rich table (rows coloured by grade)."""
    from rich.table import Table

    release = report["release"]
    last = release["last_deploy"] or {}
    title = (
        f"{report['verdict'].upper()}  live {release['live'] or 'none'} "
        f"({_age(release['age_s'])} old), last deploy {last.get('release', '-')}: "
        f"{last.get('status', '-')}"
    )
    table = Table(title=title, title_justify="left", expand=False)
    columns = ("kind", "name", "state", "pid", "cpu %", "memory MB", "up", "restarts", "port")
    for column in (*columns, "detail"):
        table.add_column(column, justify="right" if column in columns[4:8] else "left")
    for s in report["services"]:
        port = "-" if s["port"] is None else f"{s['port']} {'open' if s['port_open'] else 'shut'}"
        table.add_row(
            "service",
            s["name"],
            "running" if s["running"] else "stopped",
            str(s["pid"] or "-"),
            _num(s["cpu"], ".0f"),
            _num(s["rss_mb"], ".0f"),
            _age(s["uptime_s"]),
            "-" if s["restarts"] is None else str(s["restarts"]),
            port,
            "; ".join(s["reasons"]),
            style=COLOUR[s["grade"]],
        )
    for c in report["checks"]:
        table.add_row(
            "check",
            c["name"],
            "ok" if c["ok"] else "FAILING",
            "",
            "",
            "",
            "",
            "",
            f"{c['ms']:.0f} ms",
            "; ".join(c["reasons"]) or c["detail"],
            style=COLOUR[c["grade"]],
        )
    for q in report["queues"]:
        pending = "-" if q["pending"] is None else f"{q['pending']} pending"
        failed = "-" if q["failed"] is None else f"{q['failed']} failed"
        table.add_row(
            "queue",
            q["app"],
            pending,
            *[""] * 6,
            "; ".join(q["reasons"]) or failed,
            style=COLOUR[q["grade"]],
        )
    host = report["host"]
    disks = ", ".join(f"{k} {v:.1f} GB free" for k, v in host["disk_free_gb"].items())
    table.add_row(
        "host",
        "cpu/ram/load",
        f"load {host['load'][0]:.2f}",
        "",
        f"{host['cpu']:.0f}",
        f"{host['ram_used_mb']:.0f}/{host['ram_total_mb']:.0f}",
        "",
        "",
        "",
        "; ".join(host["reasons"]) or disks,
        style=COLOUR[host["grade"]],
    )
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
        console.print(render(report))
        raise typer.Exit(report["exit"])
    from rich.live import Live

    report = health_report(ctx)
    try:
        with Live(render(report), console=console, auto_refresh=False) as live:
            while True:
                time.sleep(interval)
                report = health_report(ctx)
                live.update(render(report), refresh=True)
    except KeyboardInterrupt:
        raise typer.Exit(report["exit"]) from None
