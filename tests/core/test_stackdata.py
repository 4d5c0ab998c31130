"""The stack's databases and database health checks: each engine with its own admin access and
default port, checks that log in to a database of their own engine."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from deployflow.core.stack import Stack
from deployflow.core.stackdata import Database, HealthCheck

PG = {"engine": "postgresql", "name": "app", "user": "app", "password": "x"}


def _stack(check: dict, engine: str) -> Stack:
    db = {"engine": engine, "path": "a.sqlite"} if engine == "sqlite" else {**PG, "engine": engine}
    return Stack.model_validate(
        {
            "project": "p",
            "paths": {"root": "./root"},
            "databases": {"main": db},
            "apps": {"web": {"source": "app", "health": [check]}},
        }
    )


def test_postgresql_takes_an_admin_url_or_socket_and_mariadb_a_socket() -> None:
    assert Database(**PG, admin_url="postgresql://admin@h/postgres").admin_url
    assert Database(**PG, admin_socket="/srv/shared/pg").admin_socket  # a postgres: service's
    with pytest.raises(ValidationError, match="admin_socket or admin_url, not both"):
        Database(**PG, admin_socket="/srv/shared/pg", admin_url="postgresql://a@h/postgres")
    with pytest.raises(ValidationError, match="admin_url is PostgreSQL's"):
        Database(**{**PG, "engine": "mariadb"}, admin_url="postgresql://admin@h/postgres")


def test_a_database_check_names_a_database_of_its_engine() -> None:
    assert HealthCheck(postgres="main").database == "main"
    assert _stack({"postgres": "main"}, "postgresql").apps["web"].health[0].kind == "postgres"
    with pytest.raises(ValidationError, match="postgres: database main is mariadb"):
        _stack({"postgres": "main"}, "mariadb")
    with pytest.raises(ValidationError, match="mysql: database main is sqlite"):
        _stack({"mysql": "main"}, "sqlite")
    with pytest.raises(ValidationError, match="mysql: database main is postgresql"):
        _stack({"mysql": "main"}, "postgresql")
    with pytest.raises(ValidationError, match="unknown database 'other'"):
        _stack({"postgres": "other"}, "postgresql")
    with pytest.raises(ValidationError, match="exactly one of http, ws, tcp, mysql, postgres"):
        HealthCheck(postgres="main", mysql="main")


def test_sqlite_is_a_file_and_server_engines_need_a_login() -> None:
    assert Database(engine="sqlite", path="web/instance/app.sqlite").path
    with pytest.raises(ValidationError, match="sqlite takes path"):
        Database(engine="sqlite", path="x.sqlite", password="pw")
    with pytest.raises(ValidationError, match="sqlite takes path"):
        Database(engine="sqlite")
    with pytest.raises(ValidationError, match="path is SQLite's"):
        Database(**PG, path="x.sqlite")
    with pytest.raises(ValidationError, match="mariadb needs user, password"):
        Database(name="app")
