"""Which sources `deployflow logs` reads for a service or app: a process service's output file
and declared files; a systemd service's journal and a docker service's `docker logs` stream
(journald needs systemd as PID 1 and docker a daemon, neither of which this machine runs, so
only the commands are checked, not their output); unknown names refused."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from deployflow.errors import UsageError
from deployflow.loading import load_stack
from deployflow.ops.logs import log_sources
from tests.conftest import EXAMPLE


@pytest.fixture
def stack(tmp_path: Path) -> Path:
    shutil.copytree(EXAMPLE, tmp_path / "woosoo")
    path = tmp_path / "woosoo" / "deployflow.yaml"
    text = path.read_text().replace(
        "  relay-ws:\n    backend: process\n",
        "  relay-ws:\n    backend: systemd\n    unit: woosoo-relay.service\n",
    )
    text = text.replace(
        "  pwa-web:\n    backend: process\n",
        "  pwa-web:\n    backend: docker\n    image: woosoo-pwa:1\n"
        '    logs: ["{{ paths.shared }}/nginx/access.log"]\n',
    )
    path.write_text(text)
    return path


def test_sources_per_backend(stack: Path, tmp_path: Path) -> None:
    ctx = load_stack(stack, tmp_path / "root", environ={"WOOSOO_DB_PASSWORD": "x-for-tests"})
    [api] = log_sources(ctx, "backend-api")
    assert api.path == tmp_path / "root" / "logs" / "backend-api.log" and not api.command
    [relay] = log_sources(ctx, "relay")  # an app: its service's sources
    assert relay.command == ("journalctl", "-u", "woosoo-relay.service", "-o", "short-iso")
    access, docker = log_sources(ctx, "pwa-web")
    assert access.path == tmp_path / "root" / "shared" / "nginx" / "access.log"
    assert docker.command[0:2] == ("docker", "--host")  # deployflow's engine, or DOCKER_HOST's
    assert docker.command[3:5] == ("logs", "--timestamps")
    assert {s.name for s in log_sources(ctx, "all")} == {"db", "backend-api", "pwa-web", "relay-ws"}
    with pytest.raises(UsageError, match="unknown service or app 'web'"):
        log_sources(ctx, "web")


def test_an_app_and_its_service_of_one_name_are_read_once(tmp_path: Path) -> None:
    stack = tmp_path / "deployflow.yaml"
    (tmp_path / "web").mkdir()
    stack.write_text(
        "project: one\npaths: {root: ./root}\n"
        "apps: {web: {source: web, services: [web]}}\n"
        "services: {web: {command: 'sleep 1'}}\n"
    )
    ctx = load_stack(stack, tmp_path / "root", environ={})
    assert [s.path for s in log_sources(ctx, "web")] == [tmp_path / "root" / "logs" / "web.log"]
