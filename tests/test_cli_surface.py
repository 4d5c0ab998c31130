"""The CLI answers --help everywhere without importing Prefect, and bad usage exits 2."""

from __future__ import annotations

import subprocess
import sys

import pytest

COMMANDS = [
    [],
    ["run"],
    ["run", "full"],
    ["run", "app"],
    ["plan"],
    ["rollback"],
    ["releases"],
    ["config"],
    ["config", "sync"],
    ["services"],
    ["services", "status"],
    ["services", "start"],
    ["services", "stop"],
    ["services", "restart"],
    ["preflight"],
    ["server"],
    ["server", "start"],
    ["server", "stop"],
    ["server", "status"],
    ["version"],
]


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "deployflow", *args], capture_output=True, text=True
    )


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "root")
def test_help_everywhere(command: list[str]) -> None:
    proc = _run(*command, "--help")
    assert proc.returncode == 0 and "Usage:" in proc.stdout


def test_help_does_not_import_prefect() -> None:
    code = (
        "import sys; from deployflow.cli.main import app\n"
        "try:\n    app(['--help'])\nexcept SystemExit:\n    pass\n"
        "assert 'prefect' not in sys.modules, 'prefect imported'\n"
        "assert 'pymysql' not in sys.modules and 'httpx' not in sys.modules\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_usage_error_exits_2() -> None:
    proc = _run("run", "full", "--no-such-option")
    assert proc.returncode == 2
