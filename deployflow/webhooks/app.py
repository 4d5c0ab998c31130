"""The webhook ASGI app: POST /hooks/{github,gitlab,generic}. Verified, replay-checked and
audited; a push that matches a route in the stack's `webhooks:` starts a deployment run."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from deployflow.backends.webhook_store import WebhookStore
from deployflow.core.context import StackContext
from deployflow.core.stack import WebhookRoute
from deployflow.core.webhooks import Push, match_route, parse_push, verify

__all__ = ["MAX_BODY", "create_app"]

MAX_BODY = 1024 * 1024
BODY_SECONDS = 10.0  # a body still arriving after this is dropped (408)
AUDIT_CHARS = 200
DELIVERY = {
    "github": "x-github-delivery",
    "gitlab": "x-gitlab-event-uuid",
    "generic": "x-delivery-id",
}
EVENT = {"github": "x-github-event", "gitlab": "x-gitlab-event", "generic": "x-event"}
PUSH = {"github": "push", "gitlab": "Push Hook", "generic": "push"}

Starter = Callable[[WebhookRoute, Push], dict[str, Any]]


async def _body(request: Request) -> bytes | None:
    """The raw body, or None past MAX_BODY (read no further than that) or BODY_SECONDS."""

    async def read() -> bytes | None:
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > MAX_BODY:
                return None
            chunks.append(chunk)
        return b"".join(chunks)

    if int(request.headers.get("content-length") or 0) > MAX_BODY:
        return None
    return await asyncio.wait_for(read(), BODY_SECONDS)


def _short(entry: dict[str, Any]) -> dict[str, Any]:
    """What an audit line keeps of a request: no value longer than AUDIT_CHARS (a caller
    without a signature must not fill the disk through it)."""
    return {k: v[:AUDIT_CHARS] if isinstance(v, str) else v for k, v in entry.items()}


def create_app(
    ctx: StackContext, start: Starter, environ: dict[str, str] | None = None
) -> Starlette:
    env = os.environ if environ is None else environ
    store = WebhookStore(ctx.layout.state)
    config = ctx.stack.webhooks

    def answer(status: int, entry: dict[str, Any], **body: Any) -> JSONResponse:
        store.audit(status=status, **_short(entry))
        return JSONResponse(body, status_code=status)

    async def push_of(source: str, entry: dict[str, Any], body: bytes) -> JSONResponse | str:
        """The run a verified, first-time delivery started (its id), or the answer why it
        starts nothing."""
        if source == "github" and entry["event"] == "ping":
            return answer(200, {**entry, "verdict": "ping"}, ok=True)
        if entry["event"] != PUSH[source]:
            return answer(202, {**entry, "verdict": "ignored event"}, ignored=entry["event"])
        try:
            payload = json.loads(body)
        except ValueError:
            return answer(400, {**entry, "verdict": "not JSON"}, error="body is not JSON")
        push = parse_push(source, payload) if isinstance(payload, dict) else None
        if push is None:
            return answer(
                202, {**entry, "verdict": "not a branch push"}, ignored="not a branch push"
            )
        entry.update(repository=push.repository, branch=push.branch, sha=push.sha)
        route = match_route(config.routes, push)
        if route is None:
            return answer(
                404,
                {**entry, "verdict": "no route"},
                error="no route for this repository and branch",
            )
        run = await run_in_threadpool(start, route, push)
        entry.update(run=run["id"], deployment=run["deployment"])
        return str(run["id"])

    async def hook(request: Request) -> JSONResponse:
        source = request.path_params["source"]
        entry: dict[str, Any] = {"source": source, "event": None, "repository": None}
        if source not in ("github", "gitlab", "generic"):
            return answer(404, {**entry, "verdict": "unknown source"}, error="unknown hook")
        entry["event"] = request.headers.get(EVENT[source], "push" if source == "generic" else None)
        secret = env.get(config.secrets.get(source, ""), "")
        if not secret:
            return answer(
                404,
                {**entry, "verdict": "not configured"},
                error=f"{source} hooks are not configured",
            )
        try:
            body = await _body(request)
        except TimeoutError:
            return answer(408, {**entry, "verdict": "body too slow"}, error="body too slow")
        if body is None:
            return answer(413, {**entry, "verdict": "body too large"}, error="body over 1 MB")
        if not verify(source, secret, body, dict(request.headers)):
            return answer(
                401, {**entry, "verdict": "bad signature"}, error="bad or missing signature"
            )
        delivery = request.headers.get(DELIVERY[source], "")
        if not delivery or len(delivery) > AUDIT_CHARS:
            return answer(
                400,
                {**entry, "verdict": "no delivery id"},
                error=f"a {DELIVERY[source]} header is required (replay protection)",
            )
        if not store.claim(source, delivery):
            return answer(
                409, {**entry, "verdict": "replayed"}, error=f"delivery {delivery} seen before"
            )
        try:
            outcome = await push_of(source, entry, body)
        except Exception as exc:  # the run does not exist: the sender may deliver it again
            store.release(source, delivery)
            why = ctx.redact(str(exc))[:AUDIT_CHARS] or type(exc).__name__
            return answer(
                503,
                {**entry, "verdict": "start failed", "error": why},
                error=f"the run could not be started ({why}); deliver it again",
            )
        if not isinstance(outcome, str):
            store.release(source, delivery)  # nothing started: a redelivery is looked at anew
            return outcome
        store.done(source, delivery)
        return answer(
            202, {**entry, "verdict": "started"}, run=outcome, deployment=entry["deployment"]
        )

    return Starlette(routes=[Route("/hooks/{source}", hook, methods=["POST"])])
