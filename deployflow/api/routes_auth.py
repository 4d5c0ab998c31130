"""/auth: register and log in (email and password give an API key), rotate a key."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, HTTPException, Request, Response
from pydantic import BaseModel, Field

from deployflow.api.deps import CurrentUser, Db
from deployflow.api.keys import check_password, hash_password
from deployflow.api.repos import Repos

__all__ = ["router"]

router = APIRouter(prefix="/auth", tags=["auth"])

Email = Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)]


class Credentials(BaseModel):
    email: Email
    password: Annotated[str, Field(min_length=8, max_length=200)]


class KeyOut(BaseModel):
    user_id: int
    api_key: str  # shown once; only its hash is kept


@router.post("/register", status_code=201)
async def register(body: Credentials, db: Db) -> KeyOut:
    repos = Repos(db)
    if await repos.user_by_email(body.email.lower()) is not None:
        raise HTTPException(409, "that email has an account; log in instead")
    user = await repos.add_user(body.email.lower(), hash_password(body.password))
    return KeyOut(user_id=user.id, api_key=await repos.add_key(user.id))


@router.post("/login")
async def login(body: Credentials, request: Request, response: Response, db: Db) -> KeyOut:
    address = request.client.host if request.client else "?"
    allowed, wait = request.app.state.login_limit.allow(address, time.monotonic())
    if not allowed:
        raise HTTPException(
            429,
            f"too many login attempts from {address}; try again in {wait:.0f} s",
            headers={"Retry-After": str(max(1, round(wait)))},
        )
    repos = Repos(db)
    user = await repos.user_by_email(body.email.lower())
    if user is None or not check_password(body.password, user.password_hash):
        raise HTTPException(401, "wrong email or password")
    request.state.user_id = user.id
    return KeyOut(user_id=user.id, api_key=await repos.add_key(user.id))


@router.post("/refresh")
async def refresh(user: CurrentUser, request: Request, db: Db) -> KeyOut:
    """A new key; the one this request used stops working at once."""
    repos = Repos(db)
    await repos.revoke(request.state.key_id)
    return KeyOut(user_id=user.id, api_key=await repos.add_key(user.id))
