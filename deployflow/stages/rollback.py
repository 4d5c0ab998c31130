"""Put a previous release back: configs, `current`, services, health gate."""

from __future__ import annotations

from pathlib import Path

from deployflow.backends.files import fsync_dir
from deployflow.core.context import StackContext
from deployflow.core.servicespec import services_for
from deployflow.probes import ProbeResult
from deployflow.stages import Log
from deployflow.stages.backup import restore_configs
from deployflow.stages.release import switch_current
from deployflow.stages.services import start_services, stop_services
from deployflow.stages.verify import verify_apps

__all__ = ["rollback_to"]


def rollback_to(
    ctx: StackContext, target: str | None, configs_from: Path | None, log: Log
) -> list[ProbeResult]:
    """Stop app services, restore configs, point `current` at `target`, start, verify.

    With no target (a first deploy failed) the app services stay stopped and `current` goes away.
    """
    apps = list(ctx.stack.apps)
    services = services_for(ctx, apps)
    stop_services(ctx, services, log)
    if configs_from is not None:
        restore_configs(configs_from, ctx.layout, log)
    if target is None:
        ctx.layout.current.unlink(missing_ok=True)
        fsync_dir(ctx.root)
        log("no earlier release to return to; app services left stopped")
        return []
    switch_current(ctx, target, log)
    start_services(ctx, services, log)
    return verify_apps(ctx, apps, target, log)
