"""Print the database's Alembic revision (what deployflow records per release)."""

import os

from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine

with create_engine(os.environ["DATABASE_URL"]).connect() as conn:
    print(MigrationContext.configure(conn).get_current_revision() or "base")
