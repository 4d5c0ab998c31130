"""The end of every operation: the summary finished, the report written, notifications sent.
A failure in either is a warning in the summary, never the operation's outcome."""

from __future__ import annotations

from typing import Any

from deployflow.core.context import StackContext
from deployflow.core.summary import Summary
from deployflow.ops.runner import Runner
from deployflow.stages.notify import notify_summary
from deployflow.stages.report import write_report

__all__ = ["finish"]


def finish(
    ctx: StackContext, summary: Summary, runner: Runner, outcome: str, error: BaseException | None
) -> dict[str, Any]:
    message = ctx.redact(str(error) or type(error).__name__) if error is not None else None
    data = summary.finish(outcome, message)
    data["report"] = None
    data["run"] = runner.run_id
    try:
        path, markdown = runner.call("report", write_report, ctx, data)
        data["report"] = str(path)
    except Exception as exc:  # the deploy's outcome is decided; say what went wrong
        summary.warn(f"report not written: {ctx.redact(str(exc)) or type(exc).__name__}")
    else:
        key = f"{ctx.stack.project}-{data['flow']}-report".replace("_", "-")
        try:
            runner.publish(key, markdown, f"{data['flow']} {data['release']}: {data['result']}")
        except Exception as exc:
            why = ctx.redact(str(exc)) or type(exc).__name__
            summary.warn(f"report not published where the run is watched: {why}")
    try:
        data["notify"] = runner.call("notify", notify_summary, ctx, data, runner.log, retries=2)
    except Exception as exc:
        data["notify"] = []
        summary.warn(f"notification not sent: {ctx.redact(str(exc)) or type(exc).__name__}")
    for warning in data["warnings"]:
        runner.log(f"warning: {warning}")
    return data
