"""`deployflow login|logout|deploy|status`: deployflow as a service from any directory. `deploy`
packs the directory (its .gitignore/.dockerignore applied; never .git, .venv, node_modules),
uploads it with a progress bar, follows the log live and prints the URL; exit 1 on `error`."""

from __future__ import annotations

import re
import sys
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from deployflow.cli.common import JsonOpt, echo_json
from deployflow.errors import DeployFailed, UsageError

__all__ = ["deploy", "login", "logout", "status"]


def login(
    url: Annotated[str, typer.Option("--url", help="The API, e.g. http://deploy.example:8700.")],
    email: Annotated[str, typer.Option("--email", prompt=True, help="Your account's email.")],
    password: Annotated[
        str, typer.Option("--password", prompt=True, hide_input=True, help="Prompted for.")
    ],
) -> None:
    """Log in to a deployflow API: a fresh key is saved (0600) in your user config."""
    from deployflow.api.client import log_in, remember

    path = remember(log_in(url, email, password))
    typer.echo(f"logged in to {url.rstrip('/')} as {email}; key saved in {path}")


def logout() -> None:
    """Forget the saved API URL and key."""
    from deployflow.api.client import forget

    typer.echo("logged out" if forget() else "not logged in; nothing to forget")


def _name(directory: Path, name: str | None) -> str:
    chosen = name or re.sub(r"[^a-z0-9-]+", "-", directory.name.lower()).strip("-")
    if not re.fullmatch(r"[a-z0-9-]{1,50}", chosen or ""):
        raise UsageError(f"--name {chosen!r}: lower-case letters, digits and -, 1 to 50 long")
    return chosen


def _commit(directory: Path) -> str | None:
    """The checkout's commit, when the directory is a git work tree."""
    from deployflow.backends.executor import Command, run
    from deployflow.errors import CommandError

    try:
        done = run(Command.of(["git", "-C", directory, "rev-parse", "HEAD"], timeout=10))
    except CommandError:
        return None
    return done.tail[-1].strip() if done.tail else None


def deploy(
    directory: Annotated[Path, typer.Argument(help="What to deploy (default: here).")] = Path(),
    name: Annotated[
        str | None, typer.Option("--name", help="The project (default: the dir's name).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Upload DIRECTORY to the API as a new deployment of its project (made on first use),
    follow its log and print its URL."""
    from deployflow.api.client import Client, saved
    from deployflow.backends.packdir import pack_dir

    directory = directory.resolve()
    if not directory.is_dir():
        raise UsageError(f"{directory} is not a directory")
    project_name = _name(directory, name)
    client = Client(saved())
    project = client.project(project_name, create=True)
    with tempfile.TemporaryDirectory(prefix="deployflow-upload-") as scratch:
        packed = pack_dir(directory, Path(scratch) / "source.tar.gz")
        typer.echo(f"packed {packed.files} files ({packed.size / 1e6:.1f} MB)", err=True)
        show = sys.stderr.isatty() and not as_json
        with typer.progressbar(
            length=packed.size, label="uploading", file=sys.stderr if show else _Null()
        ) as bar:
            made = client.upload(project["id"], packed.path, _commit(directory), bar.update)
    final: dict = {}
    for message in client.stream(made["id"]):
        if "line" in message and not as_json:
            typer.echo(message["line"])
        elif "line" not in message:
            final = message
    row = client.deployment(made["id"])
    if as_json:
        echo_json(row)
    if row["state"] != "live":
        raise DeployFailed(
            f"deployment {row['id']} of {project_name}: {row['state']}: "
            f"{(row.get('error') or final.get('error') or 'no reason recorded').splitlines()[0]}"
        )
    if not as_json:
        typer.echo(f"live: {row['url']}")


class _Null:
    """A progress bar's output with nowhere to go (off a terminal)."""

    def write(self, _text: str) -> int:
        return 0

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


def status(
    project: Annotated[str | None, typer.Argument(help="One project (default: all).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Your projects and their last deployment: state, URL, when."""
    from deployflow.api.client import Client, saved

    client = Client(saved())
    projects = [client.project(project)] if project else client.projects()
    rows = []
    for p in projects:
        last = next(iter(client.deployments(p["id"])), None)
        rows.append({"project": p["name"], "id": p["id"], "last": last})
    if as_json:
        echo_json(rows)
        return
    if not rows:
        typer.echo("no projects yet: `deployflow deploy` makes one")
    for row in rows:
        last = row["last"]
        if last is None:
            typer.echo(f"{row['project']:<20} never deployed")
            continue
        reason = last["error"].splitlines()[0] if last["error"] else ""
        where = last["url"] if last["state"] == "live" else reason
        typer.echo(f"{row['project']:<20} #{last['id']:<5} {last['state']:<10} {where}")
