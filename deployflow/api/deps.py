"""What routes depend on: a database session per request and the user its X-API-Key names
(401 without one, or with one that is wrong or revoked)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, FastAPI, Header, HTTPException, Request
from sqlalchemy.ext.asyncio import AsyncSession

from deployflow.api.models import User
from deployflow.api.repos import Repos

__all__ = ["CurrentUser", "Db", "ShortUser", "current_user", "key_owner", "session"]


async def session(request: Request) -> AsyncIterator[AsyncSession]:
    async with request.app.state.sessions() as s, s.begin():
        yield s


# committed when the route returns, before the answer goes out (and the audit is written)
Db = Annotated[AsyncSession, Depends(session, scope="function")]


async def current_user(
    request: Request, db: Db, x_api_key: Annotated[str | None, Header()] = None
) -> User:
    return _known(request, await Repos(db).key_owner(x_api_key) if x_api_key else None, x_api_key)


def _known(request: Request, found: tuple[User, str] | None, key: str | None) -> User:
    if not key:
        raise HTTPException(401, "an API key is required (header X-API-Key)")
    if found is None:
        raise HTTPException(401, "the API key is wrong or was revoked; log in again")
    user, key_id = found
    request.state.user_id, request.state.key_id = user.id, key_id
    return user


CurrentUser = Annotated[User, Depends(current_user)]


async def key_owner(app: FastAPI, key: str) -> tuple[User, str] | None:
    """The key's (user, key id), looked up in a session of its own."""
    async with app.state.sessions() as s:
        return await Repos(s).key_owner(key)


async def short_user(request: Request, x_api_key: Annotated[str | None, Header()] = None) -> User:
    """`current_user` without holding a session for the request: for a long upload."""
    found = await key_owner(request.app, x_api_key) if x_api_key else None
    return _known(request, found, x_api_key)


ShortUser = Annotated[User, Depends(short_user)]
