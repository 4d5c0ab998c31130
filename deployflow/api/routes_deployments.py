"""Deployments: a source tarball uploaded to a project (streamed to disk, unpacked with every
member checked, detected), then run in the background; its state, its log, and the log as a
WebSocket stream that replays from the start, follows, and closes with the final state."""

from __future__ import annotations

import secrets
from datetime import datetime
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request, WebSocket, WebSocketDisconnect
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict

from deployflow.api.deps import CurrentUser, Db, ShortUser, key_owner
from deployflow.api.models import Deployment
from deployflow.api.repos import FINAL, Repos
from deployflow.api.runlog import KINDS
from deployflow.api.settings import Settings
from deployflow.api.upload import receive
from deployflow.backends.archive import unpack
from deployflow.backends.sourcetree import detect_in
from deployflow.backends.treeops import move, remove
from deployflow.core.detect import ProjectDetectionError
from deployflow.errors import UploadError

__all__ = ["router"]

router = APIRouter(tags=["deployments"])


class DeploymentOut(BaseModel):
    id: int
    project_id: int
    state: str
    url: str | None
    commit: str | None
    error: str | None
    error_kind: str | None  # detection, build, runtime, preflight, resources, interrupted
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None

    model_config = ConfigDict(from_attributes=True)

    @classmethod
    def of(cls, d: Deployment) -> DeploymentOut:
        return cls.model_validate(d)


class LogLine(BaseModel):
    id: int
    at: datetime
    line: str


def _detected(source: Path) -> None:
    """An upload with no app (or several) in it, or an app with no web process to route to,
    is refused before it is stored: a deployment `live` with nothing serving would be a lie."""
    try:
        plan = detect_in(source)
    except ProjectDetectionError as exc:
        raise HTTPException(422, str(exc).replace(f"{source}: ", "", 1)) from None
    if plan.start is None:
        why = "; ".join(plan.warnings) or "add a Procfile with a `web:` line"
        raise HTTPException(422, f"no web process found in the {plan.kind} app: {why}")


@router.post("/projects/{project_id}/deployments", status_code=202)
async def create(
    project_id: int, request: Request, user: ShortUser, wait: bool = False
) -> DeploymentOut:
    """Upload the source as a gzipped tarball (multipart part `source`, optional `commit`);
    the deployment runs in the background: follow it at /deployments/{id}/logs/stream. With
    `?wait=true` the answer comes when it ended: 201 live, or its error kind's status (build
    422 with the log's tail, runtime 502, preflight 409, resources 507, interrupted 503)."""
    app = request.app
    settings: Settings = app.state.settings
    async with app.state.sessions() as s:
        repos = Repos(s)
        if await repos.project(user.id, project_id) is None:
            raise HTTPException(404, f"no project {project_id}")
        if await repos.pending(user.id) >= settings.max_pending:
            raise HTTPException(
                429, f"{settings.max_pending} deployments of yours are still running; wait"
            )
    incoming = settings.home / "uploads" / f"incoming-{secrets.token_hex(8)}"
    try:
        upload = await receive(request, incoming / "source.tar.gz", settings.max_upload)
        try:
            await run_in_threadpool(
                unpack,
                incoming / "source.tar.gz",
                incoming / "src",
                error=UploadError,
                limit=settings.max_unpacked,
            )
        except UploadError as exc:
            raise HTTPException(422, str(exc)) from None
        await run_in_threadpool(_detected, incoming / "src")
        async with app.state.sessions() as s, s.begin():
            row = await Repos(s).add_deployment(project_id, upload.fields.get("commit"))
            await run_in_threadpool(move, incoming, settings.source(row.id).parent)
    finally:
        await run_in_threadpool(remove, incoming)
    app.state.deployer.submit(row.id)
    if not wait:
        return DeploymentOut.of(row)
    done = await app.state.deployer.finished(row.id)
    if done.state == "error":
        kind = done.error_kind or "internal"
        raise HTTPException(
            KINDS.get(kind, 500), f"deployment {done.id} failed ({kind}): {done.error}"
        )
    return JSONResponse(DeploymentOut.of(done).model_dump(mode="json"), status_code=201)


@router.get("/projects/{project_id}/deployments")
async def listing(project_id: int, user: CurrentUser, db: Db) -> list[DeploymentOut]:
    repos = Repos(db)
    if await repos.project(user.id, project_id) is None:
        raise HTTPException(404, f"no project {project_id}")
    return [DeploymentOut.of(d) for d in await repos.deployments(project_id)]


async def _own(db: Db, user_id: int, deployment_id: int) -> Deployment:
    found = await Repos(db).deployment(user_id, deployment_id)
    if found is None:
        raise HTTPException(404, f"no deployment {deployment_id}")
    return found


@router.get("/deployments/{deployment_id}")
async def one(deployment_id: int, user: CurrentUser, db: Db) -> DeploymentOut:
    return DeploymentOut.of(await _own(db, user.id, deployment_id))


@router.get("/deployments/{deployment_id}/logs")
async def logs(deployment_id: int, user: CurrentUser, db: Db, after: int = 0) -> list[LogLine]:
    await _own(db, user.id, deployment_id)
    rows = await Repos(db).lines(deployment_id, after, limit=10_000)
    return [LogLine(id=r.id, at=r.at, line=r.line) for r in rows]


async def _ws_key(ws: WebSocket) -> str | None:
    """The key from the X-API-Key header, else the first message (the key, or JSON
    `{"api_key": ...}`)."""
    key = ws.headers.get("x-api-key")
    if key:
        return key
    try:
        first = await ws.receive_text()
    except (WebSocketDisconnect, KeyError, RuntimeError):
        return None
    if first.startswith("{"):
        import json

        try:
            return str(json.loads(first).get("api_key") or "") or None
        except (ValueError, AttributeError):
            return None
    return first.strip() or None


@router.websocket("/deployments/{deployment_id}/logs/stream")
async def stream(ws: WebSocket, deployment_id: int) -> None:
    await ws.accept()
    key = await _ws_key(ws)
    found = await key_owner(ws.app, key) if key else None
    if found is None:
        await ws.send_json({"error": "a valid API key is required (X-API-Key, or first message)"})
        await ws.close(code=4401)
        return
    sessions, deployer = ws.app.state.sessions, ws.app.state.deployer
    async with sessions() as s:
        if await Repos(s).deployment(found[0].id, deployment_id) is None:
            await ws.send_json({"error": f"no deployment {deployment_id}"})
            await ws.close(code=4404)
            return
    after = 0
    try:
        while True:
            news = deployer.waiter(deployment_id)  # before reading: nothing told is missed
            async with sessions() as s:
                row = await Repos(s).deployment_by_id(
                    deployment_id
                )  # the state first, then the lines
                rows = await Repos(s).lines(deployment_id, after)
            for line in rows:
                await ws.send_json({"id": line.id, "line": line.line})
                after = line.id
            if row is None or (row.state in FINAL and not rows):
                final = {"state": row.state if row else "gone"}
                if row is not None:
                    final |= {"url": row.url, "error": row.error}
                await ws.send_json(final)
                await ws.close(code=1000)
                return
            if not rows:
                await deployer.wait(news, timeout=0.5)
    except WebSocketDisconnect:
        return
