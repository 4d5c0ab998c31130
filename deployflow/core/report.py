"""The deploy report: one summary dict rendered as markdown (JSON is the dict itself)."""

from __future__ import annotations

from typing import Any

__all__ = ["lifecycle_line", "render_markdown", "render_short"]

_ERROR = {"failed", "cancelled", "interrupted"}


def lifecycle_line(states: list) -> str:
    """`created 05:50:01 -> building 05:50:01 -> ... -> live 05:50:05` (times in UTC)."""
    shown = [f"{s} (error)" if s in _ERROR else s for s, _t in states]
    return " -> ".join(f"{s} {t[11:19]}" for s, (_s, t) in zip(shown, states, strict=True))


_ICON = {"ok": "ok", "failed": "FAILED", "skipped": "skipped", "rolled_back": "rolled back"}


def render_markdown(summary: dict[str, Any]) -> str:
    lines = [
        f"# deployflow {summary['flow']}: {summary['project']} ({summary['environment']})",
        "",
        f"- **Result:** {summary['result']}",
        f"- **Release:** {summary['release']} (previous: {summary.get('previous') or 'none'})",
        f"- **Live now:** {summary.get('live') or 'none'}",
        f"- **Apps:** {', '.join(summary['apps'])}",
        f"- **Started:** {summary['started']}  **Took:** {summary['seconds']:.1f} s",
    ]
    if summary.get("lifecycle"):
        lines.append(f"- **Lifecycle:** {lifecycle_line(summary['lifecycle'])}")
    if summary.get("data"):
        lines.append(f"- **Data:** {summary['data']}")
    for app, commit in (summary.get("commits") or {}).items():
        lines.append(
            f"- **Commit ({app}):** {commit['sha'][:12]} {commit['ref']}: {commit['subject']}"
            f" ({commit['author']})"
        )
    if summary.get("error"):
        lines.append(f"- **Error:** {summary['error']}")
    lines += ["", "## Stages", "", "| stage | result | seconds | detail |", "|---|---|---:|---|"]
    for stage in summary["stages"]:
        detail = str(stage.get("detail", "")).replace("|", "\\|")
        status = _ICON.get(stage["status"], stage["status"])
        lines.append(f"| {stage['name']} | {status} | {stage['seconds']:.2f} | {detail} |")
    if summary.get("health"):
        lines += ["", "## Health", "", "| check | result | ms | detail |", "|---|---|---:|---|"]
        for check in summary["health"]:
            mark = "ok" if check["ok"] else "FAILED"
            lines.append(f"| {check['name']} | {mark} | {check['ms']:.0f} | {check['detail']} |")
    if summary.get("urls"):
        lines += ["", "## URLs", ""]
        lines += [f"- {app}: {url}" for app, url in summary["urls"].items()]
    return "\n".join(lines) + "\n"


def render_short(summary: dict[str, Any]) -> list[str]:
    """What a terminal shows after the live stage view (which showed the stages): the outcome,
    the release, data, where it runs and where the whole report is."""
    took = summary.get("seconds")
    lines = [
        f"{summary['result']}: release {summary['release']}, live now "
        f"{summary.get('live') or 'none'}" + (f" ({took:.1f} s)" if took is not None else "")
    ]
    if summary.get("error"):
        lines.append(f"error: {summary['error']}")
    if summary.get("data"):
        lines.append(f"data: {summary['data']}")
    if summary.get("urls") and summary.get("result") == "success":
        lines += [f"  {app:10} {url}" for app, url in summary["urls"].items()]
    if summary.get("report"):
        lines.append(f"report: {summary['report']}")
    return lines
