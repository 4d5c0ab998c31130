"""A backup's dump found by the engine that made it; one made by another engine is refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from deployflow.backends.engines import dump_file, engine_for
from deployflow.core.context import ResolvedDatabase
from deployflow.errors import BackupError


def _db(engine: str) -> ResolvedDatabase:
    return ResolvedDatabase("main", engine, "127.0.0.1", 1, "app", "app", SecretStr("x"), None)


def test_each_engine_has_its_own_dump(tmp_path: Path) -> None:
    assert engine_for(_db("mysql")).name == "mariadb"
    pg = dump_file(tmp_path, "main", {"engine": "postgresql"}, _db("postgresql"))
    assert pg == tmp_path / "database" / "main.pgdump"
    old = dump_file(tmp_path, "main", {"tables": {}}, _db("mariadb"))  # before engines were kept
    assert old == tmp_path / "database" / "main.sql.gz"


def test_a_dump_of_another_engine_is_refused(tmp_path: Path) -> None:
    with pytest.raises(BackupError, match="dumped from mariadb, but the stack now declares"):
        dump_file(tmp_path, "main", {"engine": "mariadb"}, _db("postgresql"))
