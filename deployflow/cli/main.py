"""`deployflow`: the entry point. Prefect is imported only by commands that run flows."""

from __future__ import annotations

import errno
import os
import sys

# Plain click help: rich's help renderer alone costs ~0.3 s per invocation.
os.environ.setdefault("TYPER_USE_RICH", "0")

import typer

from deployflow import __version__
from deployflow.cli import (
    api,
    backup,
    blocks,
    cert,
    client,
    config,
    deployments,
    docker,
    execcmd,
    health,
    history,
    init,
    logs,
    preflight,
    releases,
    rollouts,
    run,
    runs,
    server,
    services,
    webhook,
)
from deployflow.cli.common import fail, red
from deployflow.cli.shared import GroupedHelp, share_options
from deployflow.errors import DeployflowError

app = typer.Typer(
    name="deployflow",
    help="Deployment automation as code: atomic releases, health gates, automatic rollback.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    cls=GroupedHelp,
)
app.command("init")(init.init)
app.add_typer(run.app, name="run")
app.command("plan")(run.plan)
app.command("approve")(rollouts.approve)
app.command("execute")(rollouts.execute)
app.command("rollback")(releases.rollback)
app.command("releases")(releases.releases)
app.command("recover")(releases.recover)
app.command("exec", context_settings={"ignore_unknown_options": True})(execcmd.exec_command)
app.command("health")(health.health)
app.command("logs")(logs.logs)
app.command("history")(history.history)
app.command("summary")(history.summary)
app.add_typer(backup.app, name="backup")
app.add_typer(config.app, name="config")
app.add_typer(cert.app, name="cert")
app.add_typer(services.app, name="services")
app.command("preflight")(preflight.preflight)
app.add_typer(server.app, name="server")
app.add_typer(server.worker_app, name="worker")
app.add_typer(docker.app, name="docker")
app.add_typer(deployments.app, name="deployments")
app.add_typer(runs.app, name="runs")
app.add_typer(webhook.app, name="webhook")
app.add_typer(blocks.app, name="blocks")
app.add_typer(api.app, name="api")
app.command("login")(client.login)
app.command("logout")(client.logout)
app.command("deploy")(client.deploy)
app.command("status")(client.status)


@app.command("version")
def version() -> None:
    """Print the deployflow version."""
    typer.echo(__version__)


def _exit(code: int) -> None:
    """After a flow ran, drain Prefect's log and event queues and leave at once: its exit
    handlers would otherwise hold the terminal for most of a second. Not when the API is gone
    (killed mid-run): nothing would reach it, and draining would wait out the timeouts."""
    if "prefect" in sys.modules:
        from prefect.events.worker import EventsWorker
        from prefect.logging.handlers import APILogWorker

        from deployflow.backends.prefect_server import api_answers

        if api_answers(os.environ.get("PREFECT_API_URL") or "http://0.0.0.0:0"):
            APILogWorker.drain_all(timeout=10)
            EventsWorker.drain_all(timeout=10)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


def main() -> None:
    code = 0
    try:
        share_options(typer.main.get_command(app))(prog_name="deployflow")
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
    except DeployflowError as exc:
        try:
            fail(exc)
        except typer.Exit as failed:
            code = failed.exit_code
    except KeyboardInterrupt:
        code = 130
    except Exception as exc:  # a bug, not bad input: still one line (DEPLOYFLOW_DEBUG=1 shows all)
        if os.environ.get("DEPLOYFLOW_DEBUG"):
            raise
        red(
            _environment_error(exc)
            or f"unexpected {type(exc).__name__}: {exc}; a deployflow bug, please report it"
        )
        code = 1
    _exit(code)


_HINTS = {
    errno.ENOSPC: "free some space (df -h; deployflow cleanup) and try again",
    errno.EDQUOT: "the disk quota is used up; free some space and try again",
    errno.ENAMETOOLONG: "a name given is far too long; check the ids and paths you passed",
    errno.EACCES: "run as the user who owns the deploy root, or fix its permissions",
    errno.EPERM: "run as the user who owns the deploy root, or fix its permissions",
    errno.EROFS: "the file system is read-only; deploy to a writable root (--root)",
}


def _environment_error(exc: Exception) -> str | None:
    """One line for a machine that said no (full disk, permissions): not a deployflow bug."""
    if not isinstance(exc, OSError) or exc.errno not in _HINTS:
        return None
    where = str(exc.filename or "")
    where = f" ({where[:100]}...)" if len(where) > 100 else (f" ({where})" if where else "")
    return f"{exc.strerror}{where}; {_HINTS[exc.errno]}"
