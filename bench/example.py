"""What the benchmarks share: a private copy of the example stack on free ports."""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prepare(work: Path) -> Path:
    """examples/woosoo copied under `work` with free ports; returns its stack file."""
    stack_dir = work / "woosoo"
    shutil.copytree(REPO / "examples" / "woosoo", stack_dir)
    env = stack_dir / "deployment.config.env"
    text = env.read_text()
    for key in ("BACKEND_PORT", "PWA_PORT", "RELAY_PORT", "DB_PORT"):
        old = next(line for line in text.splitlines() if line.startswith(f"{key}="))
        text = text.replace(old, f"{key}={free_port()}")
    env.write_text(text)
    return stack_dir / "deployflow.yaml"
