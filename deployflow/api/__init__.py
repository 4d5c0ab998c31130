"""deployflow as a service: an HTTP API (FastAPI) with accounts and API keys, projects and
their deployments, over SQLAlchemy (PostgreSQL for a team, SQLite for one machine) with
Alembic migrations. `deployflow api serve|migrate`."""
