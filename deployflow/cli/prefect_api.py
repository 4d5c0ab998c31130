"""What commands that talk to Prefect share: an API to talk to (the local server by default)."""

from __future__ import annotations

import typer

__all__ = ["api"]


def api(database: str | None = None) -> str:
    """Point this process at the Prefect API (starting the local server if it is the default,
    on `database` when given)."""
    from deployflow.backends.prefect_server import ensure_api
    from deployflow.deployments.marks import flush_marks

    url = ensure_api(say=lambda message: typer.echo(message, err=True), database=database)
    for run_id in flush_marks(url):  # runs that ended while the API was down: their outcome
        typer.echo(f"run {run_id}: marked as it ended while the Prefect API was down", err=True)
    return url
