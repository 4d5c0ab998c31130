"""`deployflow init [DIR...]`: detect the apps and write a stack file for them."""

from __future__ import annotations

from typing import Annotated

import typer

from deployflow.cli.common import JsonOpt, echo_json

__all__ = ["init"]


def init(
    dirs: Annotated[
        list[str] | None, typer.Argument(help="The apps' directories (default: this one).")
    ] = None,
    output: Annotated[
        str, typer.Option("--output", "-o", help="The stack file to write.")
    ] = "deployflow.yaml",
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite an existing stack file.")
    ] = False,
    docker: Annotated[
        bool,
        typer.Option(
            "--docker", help="Run the apps as containers: write each one's Dockerfile too."
        ),
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Detect each app (Python: Django, Flask, FastAPI, WSGI; Node: npm/yarn/pnpm, Express,
    Vite; Go; Laravel; static sites; a Procfile and app.json win) and write a stack file for
    them, printing every decision with its reason. Then `deployflow run full`."""
    from pathlib import Path

    from deployflow.ops.initapp import init_stack

    result = init_stack(Path(output), [Path(d) for d in dirs or ["."]], force, docker)
    if as_json:
        echo_json(result)
        return
    for name, app in result["apps"].items():
        typer.echo(f"{name} ({app['source']}): {app['kind']}, port {app['port']}")
        for line in app["reasons"]:
            typer.echo(f"  {line}")
        for line in app["warnings"]:
            typer.echo(f"  warning: {line}", err=True)
    typer.echo(f"wrote {result['stack']}; deploy with `deployflow run full`")
