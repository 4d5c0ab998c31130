"""CI webhooks as data: verify a delivery's signature, read a push event, find the route it
starts. Pure functions; the ASGI app does the I/O."""

from __future__ import annotations

import fnmatch
import hashlib
import hmac
from dataclasses import dataclass
from typing import Any

from deployflow.core.stack import WebhookRoute

__all__ = ["Push", "match_route", "parse_push", "verify"]


def _hmac_ok(secret: str, body: bytes, header: str | None, prefix: str = "sha256=") -> bool:
    if not header or not header.startswith(prefix):
        return False
    want = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(want, header[len(prefix) :])


def verify(source: str, secret: str, body: bytes, headers: dict[str, str]) -> bool:
    """GitHub: X-Hub-Signature-256 (HMAC-SHA256 of the raw body); GitLab: X-Gitlab-Token;
    generic: X-Deployflow-Signature (HMAC-SHA256). Constant-time compares throughout."""
    if source == "github":
        return _hmac_ok(secret, body, headers.get("x-hub-signature-256"))
    if source == "gitlab":
        token = headers.get("x-gitlab-token")
        return token is not None and hmac.compare_digest(token.encode(), secret.encode())
    return _hmac_ok(secret, body, headers.get("x-deployflow-signature"))


@dataclass(frozen=True)
class Push:
    repository: str
    branch: str
    sha: str


def parse_push(source: str, payload: dict[str, Any]) -> Push | None:
    """The pushed repository, branch and commit; None when the payload is not a branch push."""
    ref = str(payload.get("ref", ""))
    if not ref.startswith("refs/heads/"):
        return None
    if source == "gitlab":
        repository = str((payload.get("project") or {}).get("path_with_namespace", ""))
        sha = str(payload.get("checkout_sha") or payload.get("after") or "")
    elif source == "github":
        repository = str((payload.get("repository") or {}).get("full_name", ""))
        sha = str(payload.get("after") or "")
    else:
        repository = str(payload.get("repository", ""))
        sha = str(payload.get("sha") or payload.get("after") or "")
    return Push(repository, ref.removeprefix("refs/heads/"), sha) if repository else None


def match_route(routes: list[WebhookRoute], push: Push) -> WebhookRoute | None:
    return next(
        (
            r
            for r in routes
            if r.repository == push.repository and fnmatch.fnmatchcase(push.branch, r.branch)
        ),
        None,
    )
