"""What a matched push starts: a run of the route's deployment, the commit as its revision."""

from __future__ import annotations

from typing import Any

from deployflow.core.context import StackContext
from deployflow.core.stack import WebhookRoute
from deployflow.core.webhooks import Push
from deployflow.deployments.runs import start_run
from deployflow.deployments.specs import deployment_spec
from deployflow.webhooks.app import Starter

__all__ = ["run_starter"]


def run_starter(ctx: StackContext) -> Starter:
    def start(route: WebhookRoute, push: Push) -> dict[str, Any]:
        spec = deployment_spec(ctx, route.run, route.target)
        options: dict[str, Any] = {}
        if route.apps:
            options["apps"] = route.apps
        if route.run.startswith("deploy"):
            options["revision"] = push.sha
        return start_run(spec.full_name, spec.run_parameters(options))

    return start
