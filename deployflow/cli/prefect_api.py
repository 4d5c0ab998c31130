"""What commands that talk to Prefect share: an API to talk to (the local server by default)."""

from __future__ import annotations

import typer

__all__ = ["api"]


def api() -> str:
    """Point this process at the Prefect API (starting the local server if it is the default)."""
    from deployflow.backends.prefect_server import ensure_api

    return ensure_api(say=lambda message: typer.echo(message, err=True))
