"""Data access for the API: every query it makes, over one async session. Routes never touch
the tables themselves."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from deployflow.api.keys import key_matches, new_key, split_key
from deployflow.api.models import ApiKey, AuditEvent, Deployment, DeploymentLog, Project, User

__all__ = ["FINAL", "Repos"]

FINAL = ("live", "error")  # a deployment's states it never leaves


class Repos:
    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    async def user_by_email(self, email: str) -> User | None:
        return (await self.s.execute(select(User).where(User.email == email))).scalar_one_or_none()

    async def add_user(self, email: str, password_hash: str) -> User:
        user = User(email=email, password_hash=password_hash)
        self.s.add(user)
        await self.s.flush()
        return user

    async def add_key(self, user_id: int) -> str:
        """A new key for the user; the plain key is returned once and kept nowhere."""
        key = new_key()
        self.s.add(ApiKey(key_id=key.key_id, secret_hash=key.secret_hash, user_id=user_id))
        await self.s.flush()
        return key.plain

    async def key_owner(self, plain: str) -> tuple[User, str] | None:
        """(user, key id) of a valid, unrevoked key, else None."""
        parts = split_key(plain)
        if parts is None:
            return None
        query = select(ApiKey, User).join(User).where(ApiKey.key_id == parts[0])
        row = (await self.s.execute(query)).first()
        if row is None or row[0].revoked_at is not None:
            return None
        return (row[1], row[0].key_id) if key_matches(parts[1], row[0].secret_hash) else None

    async def revoke(self, key_id: str) -> None:
        key = (await self.s.execute(select(ApiKey).where(ApiKey.key_id == key_id))).scalar_one()
        key.revoked_at = datetime.now(UTC).replace(tzinfo=None)

    async def projects(self, user_id: int) -> list[Project]:
        query = select(Project).where(Project.user_id == user_id).order_by(Project.id)
        return list((await self.s.execute(query)).scalars())

    async def project(self, user_id: int, project_id: int) -> Project | None:
        """Only the user's own: anyone else's is as if it did not exist."""
        query = select(Project).where(Project.id == project_id, Project.user_id == user_id)
        return (await self.s.execute(query)).scalar_one_or_none()

    async def subdomain_taken(self, subdomain: str) -> bool:
        query = select(Project.id).where(Project.subdomain == subdomain)
        return (await self.s.execute(query)).first() is not None

    async def add_project(self, user_id: int, name: str) -> Project:
        project = Project(name=name, subdomain=name, user_id=user_id)
        self.s.add(project)
        await self.s.flush()
        return project

    async def audit(self, user_id: int | None, address: str, action: str, status: int) -> None:
        self.s.add(AuditEvent(user_id=user_id, address=address, action=action, status=status))

    async def deployment_by_id(self, deployment_id: int) -> Deployment | None:
        """Whoever's it is: for the deployer, never for a route answering a user."""
        return await self.s.get(Deployment, deployment_id)

    async def project_by_id(self, project_id: int) -> Project | None:
        """Whoever's it is: for the deployer, never for a route answering a user."""
        return await self.s.get(Project, project_id)

    async def remove(self, row: Project) -> None:
        await self.s.delete(row)

    async def deployment(self, user_id: int, deployment_id: int) -> Deployment | None:
        """Only the user's own (through its project)."""
        query = (
            select(Deployment)
            .join(Project)
            .where(Deployment.id == deployment_id, Project.user_id == user_id)
        )
        return (await self.s.execute(query)).scalar_one_or_none()

    async def deployments(self, project_id: int, limit: int = 20) -> list[Deployment]:
        query = (
            select(Deployment)
            .where(Deployment.project_id == project_id)
            .order_by(Deployment.id.desc())
            .limit(limit)
        )
        return list((await self.s.execute(query)).scalars())

    async def pending(self, user_id: int) -> int:
        """The user's deployments not yet in a final state."""
        query = (
            select(func.count(Deployment.id))
            .join(Project)
            .where(Project.user_id == user_id, Deployment.state.not_in(FINAL))
        )
        return int((await self.s.execute(query)).scalar_one())

    async def unfinished(self) -> list[Deployment]:
        query = select(Deployment).where(Deployment.state.not_in(FINAL)).order_by(Deployment.id)
        return list((await self.s.execute(query)).scalars())

    async def add_deployment(self, project_id: int, commit: str | None) -> Deployment:
        deployment = Deployment(project_id=project_id, commit=commit)
        self.s.add(deployment)
        await self.s.flush()
        return deployment

    async def served(self) -> list[tuple[Project, int]]:
        """Every project with a live deployment, and that deployment's id."""
        query = select(Project).where(Project.live_deployment_id.is_not(None))
        return [(p, p.live_deployment_id) for p in (await self.s.execute(query)).scalars()]

    async def add_lines(self, deployment_id: int, lines: list[str]) -> None:
        self.s.add_all(DeploymentLog(deployment_id=deployment_id, line=line) for line in lines)

    async def lines(self, deployment_id: int, after: int = 0, limit: int = 1000) -> list:
        query = (
            select(DeploymentLog)
            .where(DeploymentLog.deployment_id == deployment_id, DeploymentLog.id > after)
            .order_by(DeploymentLog.id)
            .limit(limit)
        )
        return list((await self.s.execute(query)).scalars())
