"""/projects: a user's projects (each with a unique subdomain); nobody sees anyone else's."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field

from deployflow.api.deps import CurrentUser, Db
from deployflow.api.models import Project
from deployflow.api.repos import Repos
from deployflow.errors import DeployflowError

__all__ = ["router"]

router = APIRouter(prefix="/projects", tags=["projects"])


class NewProject(BaseModel):
    name: Annotated[str, Field(pattern=r"^[a-z0-9-]+$", min_length=1, max_length=50)]


class ProjectOut(BaseModel):
    id: int
    name: str
    subdomain: str
    created_at: datetime
    live_deployment_id: int | None  # the deployment it serves, if any

    model_config = ConfigDict(from_attributes=True)

    @classmethod
    def of(cls, p: Project) -> ProjectOut:
        return cls.model_validate(p)


async def _own(db: Db, user: CurrentUser, project_id: int) -> Project:
    project = await Repos(db).project(user.id, project_id)
    if project is None:
        raise HTTPException(404, f"no project {project_id}")
    return project


@router.post("", status_code=201)
async def create(body: NewProject, user: CurrentUser, db: Db) -> ProjectOut:
    repos = Repos(db)
    if await repos.subdomain_taken(body.name):
        raise HTTPException(409, f"the subdomain {body.name!r} is taken; choose another name")
    return ProjectOut.of(await repos.add_project(user.id, body.name))


@router.get("")
async def listing(user: CurrentUser, db: Db) -> list[ProjectOut]:
    return [ProjectOut.of(p) for p in await Repos(db).projects(user.id)]


@router.get("/{project_id}")
async def one(project_id: int, user: CurrentUser, db: Db) -> ProjectOut:
    return ProjectOut.of(await _own(db, user, project_id))


@router.delete("/{project_id}", status_code=204)
async def delete(project_id: int, request: Request, user: CurrentUser, db: Db) -> None:
    """Stops the project's service and removes its route and uploads, then the project."""
    project = await _own(db, user, project_id)
    try:
        await request.app.state.deployer.retire(project.id)
    except DeployflowError as exc:
        raise HTTPException(500, f"the project could not be retired: {exc}") from None
