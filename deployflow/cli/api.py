"""`deployflow api serve|migrate`: deployflow as a service (accounts, API keys, projects)."""

from __future__ import annotations

from typing import Annotated

import typer

app = typer.Typer(
    help="deployflow as a service: the HTTP API and its database.", no_args_is_help=True
)


def _shown(url: str) -> str:
    """The database URL without its password."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.password is None:
        return url
    return url.replace(f":{parts.password}@", ":***@", 1)


@app.command("migrate")
def migrate() -> None:
    """Upgrade the API database (DEPLOYFLOW_API_DATABASE_URL, else SQLite under the deployflow
    home) to this deployflow's schema."""
    from deployflow.api.schema import database_url, upgrade

    url = database_url()
    before, after = upgrade(url)
    said = "already at" if before == after else f"{before or 'empty'} ->"
    typer.echo(f"API database {_shown(url)}: {said} revision {after}")


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port.")] = 8700,
) -> None:
    """Serve the API (OpenAPI at /docs); refuses a database whose schema is out of date.
    Projects are served at http://<subdomain>.<DEPLOYFLOW_API_DOMAIN, localhost>:<
    DEPLOYFLOW_API_PROXY_PORT, 8780>/; uploads are limited by DEPLOYFLOW_API_MAX_UPLOAD_MB
    (100) and DEPLOYFLOW_API_MAX_UNPACKED_MB (1000); data lives in DEPLOYFLOW_API_HOME;
    projects' services get ports from DEPLOYFLOW_API_FIRST_PORT (9100) up."""
    import uvicorn

    from deployflow.api.app import create_app
    from deployflow.api.schema import current_revision, database_url, head_revision
    from deployflow.api.settings import Settings
    from deployflow.errors import DeployflowError

    settings = Settings.from_env()
    url = database_url()
    at, needed = current_revision(url), head_revision()
    if at != needed:
        raise DeployflowError(
            f"the API database {_shown(url)} is at revision {at or 'none (empty)'}, this "
            f"deployflow needs {needed}: run `deployflow api migrate`"
        )
    typer.echo(f"deployflow API on http://{host}:{port} (docs at /docs), data {_shown(url)}")
    typer.echo(f"projects at {settings.url('<project>')}, deployed under {settings.home}")
    uvicorn.run(create_app(url, settings), host=host, port=port, log_level="warning")
