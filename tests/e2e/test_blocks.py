"""Secrets kept as Prefect Secret blocks: stored from stdin, read by the stack when the
environment and the root's secrets file lack them, never printed."""

from __future__ import annotations

import subprocess
import sys

from tests.e2e.conftest import Stack

GENERATED = "DB_PASSWORD: {secret: WOOSOO_DB_PASSWORD, generate: true}"
FROM_BLOCK = "DB_PASSWORD: {secret: WOOSOO_DB_PASSWORD, block: woosoo-db-password}"


def test_secret_from_a_prefect_block(stack: Stack) -> None:
    assert "secret" in stack.cli("blocks", "register", stack=False).stdout
    value = "from-a-block-7f3e"
    subprocess.run(
        [sys.executable, "-m", "deployflow", "blocks", "secret", "woosoo-db-password"],
        input=value,
        text=True,
        env=stack.env,
        check=True,
        capture_output=True,
    )
    stack.edit(GENERATED, FROM_BLOCK)
    proc = stack.cli("run", "full")
    assert value not in proc.stdout + proc.stderr
    env_file = (stack.root / "current" / "backend" / ".env").read_text()
    assert f"DB_PASSWORD={value}" in env_file and stack.health()["db"] == "ok"
    stack.edit(FROM_BLOCK, FROM_BLOCK.replace("woosoo-db-password", "no-such-block"))
    proc = stack.cli("plan", check=False)
    assert proc.returncode == 2 and "Prefect Secret block no-such-block" in proc.stderr
