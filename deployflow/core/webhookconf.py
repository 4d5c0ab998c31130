"""The stack file's `webhooks:` section: which pushes start which runs, and each source's
secret var."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from deployflow.core.stackbase import _Model

__all__ = ["WebhookRoute", "WebhookSource", "Webhooks"]

WebhookSource = Literal["github", "gitlab", "generic"]


class WebhookRoute(_Model):
    """A push to `repository` on a branch matching `branch` (a glob) starts `run` on `target`."""

    repository: str
    branch: str = "main"
    run: Literal["deploy", "deploy-app", "rollback"] = "deploy"
    target: str | None = None
    apps: list[str] = []


class Webhooks(_Model):
    secrets: dict[WebhookSource, Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]] = {}
    routes: list[WebhookRoute] = []
