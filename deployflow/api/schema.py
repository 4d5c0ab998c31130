"""The API database's schema: where it lives (DEPLOYFLOW_API_DATABASE_URL, else SQLite under
the deployflow home), which Alembic revision it is at, and the upgrade to this deployflow's."""

from __future__ import annotations

import os
from pathlib import Path

from deployflow.backends.prefect_server import data_dir
from deployflow.backends.treeops import make_dir
from deployflow.errors import ConfigError, DeployflowError

__all__ = ["async_url", "current_revision", "database_url", "head_revision", "upgrade"]

_MIGRATIONS = Path(__file__).parent / "migrations"
_ASYNC = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg"}
_SYNC = {"sqlite": "sqlite", "postgresql": "postgresql+psycopg"}


def database_url() -> str:
    url = os.environ.get("DEPLOYFLOW_API_DATABASE_URL")
    return url or f"sqlite:///{data_dir() / 'api.db'}"


def _with_driver(url: str, drivers: dict[str, str]) -> str:
    scheme, sep, rest = url.partition("://")
    base = scheme.split("+", 1)[0]
    if not sep or base not in drivers:
        raise ConfigError(
            f"DEPLOYFLOW_API_DATABASE_URL: {scheme or url!r} is neither sqlite:// nor "
            "postgresql://; give one of those"
        )
    return f"{drivers[base]}://{rest}"


def async_url(url: str) -> str:
    return _with_driver(url, _ASYNC)


def _config(connection: object | None = None) -> object:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def _engine(url: str):  # noqa: ANN202 - sqlalchemy's Engine, imported only here
    from sqlalchemy import create_engine

    sync = _with_driver(url, _SYNC)
    if sync.startswith("sqlite:///"):
        make_dir(Path(sync.removeprefix("sqlite:///")).parent)
    return create_engine(sync)


def current_revision(url: str) -> str | None:
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy.exc import SQLAlchemyError

    try:
        with _engine(url).connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    except SQLAlchemyError as exc:
        raise DeployflowError(f"the API database does not answer: {_reason(exc)}") from None


def upgrade(url: str) -> tuple[str | None, str]:
    """Upgrade to this deployflow's revision; returns (from, to)."""
    from alembic import command
    from sqlalchemy.exc import SQLAlchemyError

    before = current_revision(url)
    try:
        with _engine(url).begin() as conn:
            command.upgrade(_config(conn), "head")
    except SQLAlchemyError as exc:
        raise DeployflowError(f"migrating the API database failed: {_reason(exc)}") from None
    return before, head_revision()


def _reason(exc: Exception) -> str:
    return str(getattr(exc, "orig", None) or exc).strip().splitlines()[0][:200]
