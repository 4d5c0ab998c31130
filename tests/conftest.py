"""Shared fixtures: a copy of the example stack with free ports, and a real Prefect API."""

from __future__ import annotations

import os
import shutil
import socket
import sys
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "woosoo"

# Before anything imports Prefect: a private PREFECT_HOME (build caches, results) per test session.
os.environ["PREFECT_HOME"] = tempfile.mkdtemp(prefix="deployflow-prefect-home-")
# ...and a private deployflow home (workers, zygotes, the local server) per session: never the
# user's, and never shared by the suite's parallel workers (pytest-xdist, `-n 2` in pyproject).
os.environ["DEPLOYFLOW_HOME"] = tempfile.mkdtemp(prefix="deployflow-home-")
os.environ.pop("PREFECT_API_URL", None)
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_UI_SHOW_PROMOTIONAL_CONTENT", "false")
if os.geteuid() == 0:  # the suite's stacks name no user: their workers run as root, as asked
    os.environ.setdefault("DEPLOYFLOW_WORKER_USER", "root")


# Tests that need the one Docker engine (its dockerd owns docker0): one xdist worker runs them all.
DOCKER_TESTS = (
    "tests/e2e/test_containers.py",
    "tests/e2e/test_container_faults.py",
    "tests/e2e/test_api_deploy.py::test_a_project_deploys_in_a_container",
)


def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object:
    """Each module's tests on one worker, in order (modules share fixtures and build on their
    earlier tests), and every Docker test on the same worker. (xdist's `loadgroup` marks do not
    take with pytest 9: its node ids are no longer the attribute xdist rewrites.)"""
    from xdist.scheduler import LoadScopeScheduling

    class ByModule(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            if nodeid.startswith(DOCKER_TESTS):
                return "docker"
            return nodeid.split("::", 1)[0]

    return ByModule(config, log)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_ports(stack_dir: Path) -> dict[str, int]:
    """Rewrite the copied master config with free ports so tests never clash with a demo."""
    names = ("BACKEND_PORT", "PWA_PORT", "RELAY_PORT", "DB_PORT")
    ports: dict[str, int] = {}
    while len(set(ports.values())) < len(names):  # the OS may hand out one port twice
        ports = {name: free_port() for name in names}
    env = stack_dir / "deployment.config.env"
    lines = []
    for line in env.read_text().splitlines():
        key = line.split("=", 1)[0]
        lines.append(f"{key}={ports[key]}" if key in ports else line)
    env.write_text("\n".join(lines) + "\n")
    return ports


@pytest.fixture
def example_stack(tmp_path: Path) -> Path:
    """A private copy of examples/woosoo (edit it freely) with free ports."""
    dest = tmp_path / "woosoo"
    shutil.copytree(EXAMPLE, dest)
    write_ports(dest)
    return dest / "deployflow.yaml"


@pytest.fixture
def python() -> str:
    return sys.executable
