"""`deployflow webhook serve`: CI webhooks in, deployment runs out."""

from __future__ import annotations

from typing import Annotated

import typer

from deployflow.cli.common import RootOpt, StackOpt, load

app = typer.Typer(help="Receive CI webhooks and start deployment runs.", no_args_is_help=True)


@app.command("serve")
def serve(
    stack: StackOpt = "deployflow.yaml",
    root: RootOpt = None,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[
        int, typer.Option("--port", help="Port to listen on.", min=1, max=65535)
    ] = 8787,
) -> None:
    """POST /hooks/github (X-Hub-Signature-256), /hooks/gitlab (X-Gitlab-Token) and
    /hooks/generic (X-Deployflow-Signature); routes come from the stack's `webhooks:`."""
    import uvicorn

    from deployflow.cli.prefect_api import api
    from deployflow.webhooks.app import create_app
    from deployflow.webhooks.start import run_starter

    ctx = load(stack, root, read_only=True)
    api()
    typer.echo(f"webhooks for {ctx.stack.project} on http://{host}:{port}/hooks/<source>", err=True)
    uvicorn.run(create_app(ctx, run_starter(ctx)), host=host, port=port, log_level="warning")
