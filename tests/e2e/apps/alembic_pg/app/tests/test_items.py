"""The template's way: migrate the database it is given, use it, then delete every row."""

import os
import subprocess
import sys

from sqlalchemy import create_engine, text


def test_items_round_trip() -> None:
    subprocess.run([sys.executable, "-m", "alembic", "upgrade", "head"], check=True)
    engine = create_engine(os.environ["DATABASE_URL"])
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO items (id, name) VALUES (99, 'from the tests')"))
        assert conn.execute(text("SELECT count(*) FROM items")).scalar_one() == 3
        conn.execute(text("DELETE FROM items"))  # what would wipe production
