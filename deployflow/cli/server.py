"""`deployflow server start|stop|status`: the embedded local Prefect server."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from deployflow.backends.prefect_server import ServerInfo

app = typer.Typer(
    help="The local Prefect server (SQLite) deployflow uses by default.", no_args_is_help=True
)


def _show(info: ServerInfo) -> None:
    if info.external:
        typer.echo(
            f"using PREFECT_API_URL={info.url} ({'up' if info.running else 'not answering'})"
        )
        return
    state = "running" if info.running else "stopped"
    typer.echo(
        f"{state}  {info.url or '-'}  pid {info.pid or '-'}  home {info.home}  log {info.log}"
    )


@app.command("start")
def start() -> None:
    """Start the local server in the background (reused if already up)."""
    from deployflow.backends.prefect_server import start_server

    _show(start_server())


@app.command("stop")
def stop() -> None:
    """Stop the local server."""
    from deployflow.backends.prefect_server import stop_server

    _show(stop_server())


@app.command("status")
def status() -> None:
    """Show whether the local server runs and where (exit 1 when it does not)."""
    from deployflow.backends.prefect_server import server_status

    info = server_status()
    _show(info)
    if not info.running:
        raise typer.Exit(1)
