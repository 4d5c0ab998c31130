"""Send the run summary to the stack's notification targets (apprise URLs, Prefect blocks)."""

from __future__ import annotations

from typing import Any

from deployflow.core.context import StackContext
from deployflow.stages import Log

__all__ = ["notify_summary", "send_notifications"]


def notify_summary(ctx: StackContext, summary: dict[str, Any], log: Log) -> list[str]:
    """The run summary to every target (secrets masked)."""
    title = f"{ctx.stack.project} {summary['flow']} {summary['release']}: {summary['result']}"
    body = ctx.redact(
        f"{title}\napps: {', '.join(summary['apps'])}\nlive: {summary.get('live') or 'none'}\n"
        + (f"error: {summary['error']}\n" if summary.get("error") else "")
    )
    return send_notifications(ctx, title, body, log)


def send_notifications(ctx: StackContext, title: str, body: str, log: Log) -> list[str]:
    """Returns one line per target; a failing target is reported, never fatal."""
    targets = ctx.stack.notifications
    if not targets:
        log("notify: no notification targets in the stack; nothing sent")
        return ["no targets configured"]
    outcomes = []
    for target in targets:
        if target.apprise:
            import apprise

            url = ctx.render(target.apprise, "notifications.apprise")
            sender = apprise.Apprise()
            if not sender.add(url):
                outcomes.append(f"{ctx.redact(url)}: not a valid apprise URL")
                continue
            ok = sender.notify(title=title, body=body)
            outcomes.append(f"{ctx.redact(url)}: {'sent' if ok else 'FAILED'}")
        else:
            from prefect.blocks.core import Block

            try:
                block = Block.load(target.block)
                block.notify(body=body, subject=title)
                outcomes.append(f"block {target.block}: sent")
            except Exception as exc:  # a notifier must never fail the deploy
                outcomes.append(f"block {target.block}: FAILED ({type(exc).__name__})")
    for line in outcomes:
        log(f"notify: {line}")
    return outcomes
