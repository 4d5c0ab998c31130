"""Options every command shares and the one place errors become a red line and an exit code."""

from __future__ import annotations

import json
import os
import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer

from deployflow.errors import DeployflowError

if TYPE_CHECKING:
    from deployflow.core.context import StackContext

__all__ = ["JsonOpt", "PlainOpt", "RootOpt", "StackOpt", "echo_json", "fail", "load", "red"]

StackOpt = Annotated[
    str,
    typer.Option("--stack", "-s", envvar="DEPLOYFLOW_STACK", help="Stack file.", show_default=True),
]
RootOpt = Annotated[
    str | None,
    typer.Option("--root", envvar="DEPLOYFLOW_ROOT", help="Deploy root (overrides paths.root)."),
]

JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]
PlainOpt = Annotated[
    bool,
    typer.Option("--plain", help="Log lines instead of the live view (always so off a terminal)."),
]

MAX_WORD = 300  # an absurd value echoed back (a 5,000-character id) is cut, not printed whole


def red(message: str) -> None:
    color = sys.stderr.isatty() and not os.environ.get("NO_COLOR")
    words = [w if len(w) <= MAX_WORD else w[:MAX_WORD] + "..." for w in message.split(" ")]
    text = "error: " + " ".join(words)
    typer.echo(typer.style(text, fg="red", bold=True) if color else text, err=True)


def fail(exc: DeployflowError) -> None:
    red(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
    raise typer.Exit(exc.exit_code)


def load(stack: str, root: str | None, read_only: bool = False) -> StackContext:
    """Load the stack; read-only commands never write (a missing generated secret stays unsaved)."""
    from deployflow.loading import load_stack

    return load_stack(stack, root, persist_generated=not read_only)


def echo_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, default=str))
