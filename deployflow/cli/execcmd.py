"""`deployflow exec APP [--release ID] [--lock] -- CMD ...`: a one-off command in the live
release, with the app's environment; its exit code is deployflow's."""

from __future__ import annotations

from typing import Annotated

import typer

from deployflow.cli.common import RootOpt, StackOpt, load

__all__ = ["exec_command"]


def exec_command(
    app: Annotated[str, typer.Argument(help="The app whose release and environment it runs in.")],
    command: Annotated[list[str], typer.Argument(help="The command and its arguments (after --).")],
    stack: StackOpt = "deployflow.yaml",
    root: RootOpt = None,
    release: Annotated[
        str | None, typer.Option("--release", help="Another release on disk (default: live).")
    ] = None,
    lock: Annotated[
        bool, typer.Option("--lock", help="Hold the root's deploy lock while it runs.")
    ] = False,
) -> None:
    """Run a one-off command (a shell, a migration, a report) in an app's live release dir with
    its full environment: `deployflow exec web -- flask routes`. Output streams as it comes;
    the exit code is passed through; `.deployflow/exec.jsonl` records each run."""
    from deployflow.ops.oneoff import exec_in_release

    ctx = load(stack, root, read_only=True)
    raise typer.Exit(exec_in_release(ctx, app, command, release, lock))
