"""The stack file's data side: databases (MariaDB/MySQL, PostgreSQL), SQL migrations, job
queues, and the health checks that may log in to them."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from deployflow.core.stackbase import _Model

__all__ = [
    "CHECK_ENGINES",
    "CHECK_KINDS",
    "DEFAULT_PORTS",
    "Database",
    "Expect",
    "HealthCheck",
    "Migrations",
    "Queue",
]


DEFAULT_PORTS = {"mariadb": 3306, "mysql": 3306, "postgresql": 5432, "sqlite": 0}


class Database(_Model):
    engine: Literal["mariadb", "mysql", "postgresql", "sqlite"] = "mariadb"
    host: str = "127.0.0.1"
    port: str | int | None = None  # the engine's own port when not given
    name: str | None = None
    user: str | None = None
    password: str | None = None
    # how deployflow creates the database and user (and loads restores): an admin socket
    # (MariaDB's file; PostgreSQL's directory, trusted, as a `postgres:` service makes it), or
    # a PostgreSQL URL for a role allowed to create roles and databases
    admin_socket: str | None = None
    admin_url: str | None = None
    path: str | None = None  # SQLite's file (relative: to the deploy root's shared/)

    @model_validator(mode="after")
    def _fits_engine(self) -> Database:
        if self.engine == "sqlite":
            given = [
                k
                for k in ("name", "user", "password", "admin_socket", "admin_url")
                if getattr(self, k)
            ]
            if not self.path or given:
                raise ValueError(
                    "sqlite takes path: (its file) and none of name, user, password, admin_*"
                )
            return self
        if self.path:
            raise ValueError(f"path is SQLite's; {self.engine} takes name, user and password")
        missing = [k for k in ("name", "user", "password") if getattr(self, k) is None]
        if missing:
            raise ValueError(f"{self.engine} needs {', '.join(missing)}")
        if self.admin_socket and self.admin_url:
            raise ValueError("give admin_socket or admin_url, not both")
        if self.engine != "postgresql" and self.admin_url:
            raise ValueError("admin_url is PostgreSQL's; give MariaDB an admin_socket")
        return self


class Migrations(_Model):
    database: str
    dir: str = "migrations"


class Expect(_Model):
    status: int = 200
    json_: Annotated[dict[str, str | int | bool] | None, Field(alias="json")] = None
    contains: str | None = None


CHECK_KINDS = ("http", "ws", "tcp", "mysql", "postgres")
# the engines each database check logs in to
CHECK_ENGINES = {"mysql": ("mariadb", "mysql"), "postgres": ("postgresql",)}


class HealthCheck(_Model):
    http: str | None = None
    ws: str | None = None
    tcp: str | None = None
    mysql: str | None = None
    postgres: str | None = None
    expect: Expect = Expect()
    send: str | None = None
    reply: str | None = None
    timeout: Annotated[float, Field(gt=0, le=60)] = 3.0
    # an https check verifies the chain (system store + the local CA); true skips that, and
    # every result of the check says so
    insecure: bool = False

    @model_validator(mode="after")
    def _one_kind(self) -> HealthCheck:
        kinds = [k for k in CHECK_KINDS if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError(f"give exactly one of {', '.join(CHECK_KINDS)}")
        if self.insecure and not (self.http or "").startswith("https://"):
            raise ValueError("insecure: is for https:// checks only")
        return self

    @property
    def kind(self) -> str:
        return next(k for k in CHECK_KINDS if getattr(self, k) is not None)

    @property
    def database(self) -> str | None:
        """The database a mysql or postgres check logs in to."""
        return self.mysql or self.postgres

    @property
    def target(self) -> str:
        return str(getattr(self, self.kind))


SQL_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"


class Queue(_Model):
    """A database-backed job queue (Laravel's `jobs` / `failed_jobs`): `deployflow health`
    counts its pending and failed rows."""

    database: str
    pending: Annotated[str, Field(pattern=SQL_NAME)] = "jobs"
    failed: Annotated[str, Field(pattern=SQL_NAME)] = "failed_jobs"
