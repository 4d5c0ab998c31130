"""`apps.X.test_database: NAME`: the test stage runs against a throwaway database on the same
server (or a scratch SQLite file), created before and dropped after, whatever the tests did.
The app's environment is pointed at it: values naming the live database, and DATABASE_URL
(set when the app has none)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from deployflow.backends.engines import database_url, engine_for
from deployflow.core.context import StackContext
from deployflow.core.dbenv import point_env
from deployflow.stages import Log

__all__ = ["test_database"]


@contextmanager
def test_database(
    ctx: StackContext, app: str, env: dict[str, str], log: Log
) -> Iterator[dict[str, str]]:
    """`env` for the app's tests: pointed at a throwaway database when the app asks for one."""
    name = ctx.stack.apps[app].test_database
    if name is None:
        yield env
        return
    db = ctx.database(name)
    engine = engine_for(db)
    scratch = engine.scratch_name(db, "test")
    engine.create_empty(db, scratch)
    try:
        pointed, keys = point_env(env, db.database, scratch)
        if "DATABASE_URL" not in pointed:  # the app's own (its driver, its options) is kept
            pointed["DATABASE_URL"] = database_url(db, scratch)
            keys.append("DATABASE_URL")
        log(f"{app}: tests use the throwaway database {scratch} ({', '.join(keys)} point at it)")
        yield pointed
    finally:
        engine.drop_database(db, scratch)
        log(f"{app}: throwaway database {scratch} dropped")
