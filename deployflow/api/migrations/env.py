"""Alembic's environment: migrations run on the connection `deployflow.api.schema` gives."""

from alembic import context

from deployflow.api.models import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
