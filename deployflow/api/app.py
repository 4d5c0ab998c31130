"""The API application: routes, the audit of every request (who, what, status; never a key),
errors as JSON `{"detail": ...}`, and a database that stops answering as 503, not a crash."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy import event
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from deployflow.api import routes_auth, routes_deployments, routes_projects
from deployflow.api.deployer import Deployer
from deployflow.api.ratelimit import RateLimit
from deployflow.api.repos import Repos
from deployflow.api.schema import async_url
from deployflow.api.settings import Settings

__all__ = ["create_app"]


def _database_error(exc: BaseException) -> bool:
    """The database refused or dropped us (a driver's error, wrapped by SQLAlchemy or not)."""
    module = type(exc).__module__.split(".")[0]
    return isinstance(exc, SQLAlchemyError | OSError) or module in ("asyncpg", "sqlite3")


LOGIN_ATTEMPTS = (10, 60.0)  # per client address, per minute


def _foreign_keys(connection: Any, _record: Any) -> None:
    """SQLite enforces foreign keys (and their ON DELETE CASCADE) only when asked, per
    connection."""
    cursor = connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def create_app(url: str, settings: Settings) -> FastAPI:
    engine = create_async_engine(async_url(url), pool_pre_ping=True)
    if engine.dialect.name == "sqlite":
        event.listen(engine.sync_engine, "connect", _foreign_keys)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    deployer = Deployer(sessions, settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await deployer.recover()
        yield
        await deployer.stop()
        await engine.dispose()

    app = FastAPI(title="deployflow API", lifespan=lifespan)
    app.state.sessions = sessions
    app.state.settings = settings
    app.state.deployer = deployer
    app.state.login_limit = RateLimit(*LOGIN_ATTEMPTS)
    app.include_router(routes_auth.router)
    app.include_router(routes_projects.router)
    app.include_router(routes_deployments.router)

    @app.middleware("http")
    async def audit(request: Request, call_next: Callable[[Request], Awaitable[Response]]):  # noqa: ANN202
        try:
            response = await call_next(request)
        except Exception as exc:
            if not _database_error(exc):
                raise
            return JSONResponse({"detail": "the API database does not answer; try again"}, 503)
        route = request.scope.get("route")
        action = f"{request.method} {getattr(route, 'path', request.url.path)}"[:200]
        address = request.client.host if request.client else "?"
        user_id = getattr(request.state, "user_id", None)
        try:
            async with app.state.sessions() as s, s.begin():
                await Repos(s).audit(user_id, address, action, response.status_code)
        except SQLAlchemyError:  # gone since the route answered: its answer is what happened
            pass
        return response

    return app
