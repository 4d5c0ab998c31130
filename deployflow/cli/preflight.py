"""`deployflow preflight`."""

from __future__ import annotations

from typing import Annotated

import typer

from deployflow.cli.common import RootOpt, StackOpt, echo_json, load
from deployflow.errors import PreflightError


def preflight(
    stack: StackOpt = "deployflow.yaml",
    root: RootOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print checks as JSON.")] = False,
) -> None:
    """Run every preflight check (tools, ports, disk, templates, database) and report them all."""
    from dataclasses import asdict

    from deployflow.stages.preflight import run_preflight

    ctx = load(stack, root)
    checks = run_preflight(ctx, list(ctx.stack.apps), lambda _m: None)
    if as_json:
        echo_json([asdict(c) for c in checks])
    else:
        for c in checks:
            mark = "ok" if c.ok else ("FAIL" if c.critical else "warn")
            typer.echo(f"{mark:5} {c.name:24} {ctx.redact(c.detail)}")
    failed = [c for c in checks if not c.ok and c.critical]
    if failed:
        raise PreflightError(
            f"{len(failed)} critical checks failed: " + ", ".join(c.name for c in failed)
        )
