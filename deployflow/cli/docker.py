"""`deployflow docker start|stop|status`: the Docker engine deployflow runs for stacks with
containers (or the one DOCKER_HOST names)."""

from __future__ import annotations

import typer

from deployflow.cli.common import JsonOpt, echo_json

app = typer.Typer(
    help="The Docker engine for container apps: start, stop, status.", no_args_is_help=True
)


def _show(json_out: bool) -> None:
    from dataclasses import asdict

    from deployflow.backends.dockerd import engine_status

    status = engine_status()
    if json_out:
        echo_json(asdict(status))
        return
    where = "DOCKER_HOST" if status.external else "deployflow's"
    state = f"running {status.version}" if status.running else f"stopped ({status.detail})"
    typer.echo(
        f"{where} engine at {status.url}: {state}" + (f", pid {status.pid}" if status.pid else "")
    )


@app.command("start")
def start(json_out: JsonOpt = False) -> None:
    """Start dockerd with its own socket, data-root and exec-root under the deployflow home
    (ready in about 5 s); with DOCKER_HOST set, check that engine answers instead."""
    from deployflow.backends.dockerd import start_engine

    start_engine(lambda m: None if json_out else typer.echo(m))
    _show(json_out)


@app.command("stop")
def stop() -> None:
    """Stop the engine deployflow started (its containers stop with it)."""
    from deployflow.backends.dockerd import stop_engine

    stop_engine()
    _show(False)


@app.command("status")
def status(json_out: JsonOpt = False) -> None:
    """Whether the engine answers, where, and its version."""
    _show(json_out)
