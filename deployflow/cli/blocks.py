"""`deployflow blocks register|secret`: what deployflow keeps on the Prefect server."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

app = typer.Typer(
    help="Prefect blocks: register their types, store a secret.", no_args_is_help=True
)


@app.command("register")
def register() -> None:
    """Register the block types deployflow uses (Secret, notification webhooks) on the server."""
    from deployflow.blocks.store import register_block_types

    typer.echo("registered: " + ", ".join(register_block_types()))


@app.command("secret")
def secret(
    name: Annotated[str, typer.Argument(help="The Secret block's name (as in `block:`).")],
) -> None:
    """Store a secret as a Prefect Secret block; the value is read from stdin (or a hidden
    prompt), never from the command line."""
    import re

    from deployflow.blocks.store import write_secret_block
    from deployflow.errors import StackError

    if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", name):
        raise StackError(f"{name!r}: block names are lower-case letters, digits and '-'")
    if sys.stdin.isatty():
        value = typer.prompt("value", hide_input=True)
    else:
        value = sys.stdin.read().rstrip("\n")
    if not value:
        raise StackError("empty secret; give the value on stdin")
    write_secret_block(name, value)
    typer.echo(f"secret block {name} stored")
