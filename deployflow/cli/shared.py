"""What every command shares, declared once: `--stack` and `--root` are accepted everywhere (a
script may pass them to every command) and checked when given (a path that does not exist or
cannot be read is one line, exit 2); `--help` lists the commands in groups."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import typer
import typer.core

from deployflow.errors import UsageError

__all__ = ["GROUPS", "GroupedHelp", "check_root", "check_stack", "share_options"]

GROUPS: dict[str, tuple[str, ...]] = {
    "Deploy": ("init", "run", "plan", "approve", "execute", "rollback", "recover", "config"),
    "Operate": (
        "services",
        "exec",
        "health",
        "logs",
        "releases",
        "history",
        "summary",
        "preflight",
        "cert",
    ),
    "Back up and restore": ("backup",),
    "Prefect: server, workers, runs": (
        "server",
        "worker",
        "docker",
        "deployments",
        "runs",
        "webhook",
        "blocks",
    ),
    "As a service": ("api", "login", "logout", "deploy", "status"),
}


def _given(ctx: Any, param: Any) -> bool:
    source = ctx.get_parameter_source(param.name or "")
    return getattr(source, "name", "") in ("COMMANDLINE", "ENVIRONMENT")


def check_stack(ctx: Any, param: Any, value: Any) -> Any:
    """A stack file given on the command line (or DEPLOYFLOW_STACK) must be a readable file."""
    if value and _given(ctx, param):
        path = Path(str(value)).expanduser()
        if not path.is_file() or not os.access(path, os.R_OK):
            why = "is not a file" if path.exists() else "does not exist"
            raise UsageError(f"--stack {path}: {why} or cannot be read")
    return value


def check_root(ctx: Any, param: Any, value: Any) -> Any:
    """A deploy root given must be a readable directory, or one that can be made (its nearest
    existing parent a writable directory): a first deploy makes it."""
    if value and _given(ctx, param):
        path = Path(str(value)).expanduser().absolute()
        if path.exists():
            if not path.is_dir() or not os.access(path, os.R_OK | os.X_OK):
                raise UsageError(f"--root {path}: not a directory this user can read")
        else:
            parent = next(p for p in path.parents if p.exists())
            if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
                raise UsageError(f"--root {path}: does not exist, and {parent} is not writable")
    return value


def _options() -> list[Any]:
    """The shared options as the CLI library makes them (from a command that only takes them);
    not passed to the command that lacks them."""
    probe = typer.Typer()

    @probe.command()
    def shared(
        stack: Annotated[
            str | None,
            typer.Option(
                "--stack",
                "-s",
                envvar="DEPLOYFLOW_STACK",
                help="Stack file (every command takes it; checked when given).",
            ),
        ] = None,
        root: Annotated[
            str | None,
            typer.Option(
                "--root",
                envvar="DEPLOYFLOW_ROOT",
                help="Deploy root (every command takes it; checked when given).",
            ),
        ] = None,
    ) -> None:
        """Only its options are used."""

    made = {p.name: p for p in typer.main.get_command(probe).params}
    options = [made["stack"], made["root"]]
    for option, check in zip(options, (check_stack, check_root), strict=True):
        option.expose_value = False
        option.callback = check
    return options


def share_options(command: Any) -> Any:
    """Give every leaf command the shared options it lacks; check them where it has them."""
    if hasattr(command, "commands"):  # a group
        for sub in command.commands.values():
            share_options(sub)
        return command
    names = {opt for p in command.params for opt in getattr(p, "opts", [])}
    for option in _options():
        if option.opts[0] in names:
            mine = next(p for p in command.params if option.opts[0] in getattr(p, "opts", []))
            mine.callback = _chained(mine.callback, option.callback)
        else:
            command.params.append(option)
    return command


def _chained(first: Any, second: Any) -> Any:
    if first is None:
        return second

    def both(ctx: Any, param: Any, value: Any) -> Any:
        return second(ctx, param, first(ctx, param, value))

    return both


class GroupedHelp(typer.core.TyperGroup):
    """`deployflow --help` lists the commands by what they are for."""

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        listed = {n for names in GROUPS.values() for n in names}
        sections = {**GROUPS, "Other": tuple(n for n in self.list_commands(ctx) if n not in listed)}
        for title, names in sections.items():
            rows = []
            for name in names:
                command = self.get_command(ctx, name)
                if command is not None and not command.hidden:
                    rows.append((name, command.get_short_help_str(limit=90)))
            if rows:
                with formatter.section(title):
                    formatter.write_dl(rows)
