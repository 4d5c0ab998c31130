"""Commands as data: systemd, supervisor, NSSM and docker backends build exact argv lists.

These tools cannot run here (systemd is not PID 1, NSSM is Windows-only, no Docker engine by
default), so their command building is tested as lists; the process backend runs for real in
test_process_backend.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from deployflow.backends.services import ServiceSpec, get_backend
from deployflow.errors import ServiceError

SPEC = ServiceSpec(
    name="queue",
    unit="woosoo-queue",
    command=["php", "artisan", "queue:work"],
    cwd=Path("/srv/current/backend"),
    env={"APP_ENV": "production"},
    image="woosoo/api:1",
    port=18000,
    stop_grace=15,
    log_file=Path("/srv/logs/queue.log"),
)


def test_systemd() -> None:
    b = get_backend("systemd")
    assert b.start_argv(SPEC) == [["systemctl", "start", "woosoo-queue"]]
    assert b.restart_argv(SPEC) == [["systemctl", "restart", "woosoo-queue"]]
    assert b.status_argv(SPEC) == ["systemctl", "is-active", "--quiet", "woosoo-queue"]


def test_supervisor() -> None:
    b = get_backend("supervisor")
    assert b.stop_argv(SPEC) == [["supervisorctl", "stop", "woosoo-queue"]]
    assert b.status_argv(SPEC) == ["supervisorctl", "status", "woosoo-queue"]


def test_nssm() -> None:
    b = get_backend("nssm")
    assert b.install_argv(SPEC)[0] == [
        "nssm",
        "install",
        "woosoo-queue",
        "php",
        "artisan",
        "queue:work",
    ]
    assert [
        "nssm",
        "set",
        "woosoo-queue",
        "AppDirectory",
        "/srv/current/backend",
    ] in b.install_argv(SPEC)
    assert b.restart_argv(SPEC) == [["nssm", "restart", "woosoo-queue"]]


def test_docker() -> None:
    b = get_backend("docker")
    assert b.start_argv(SPEC) == [
        [
            "docker",
            "run",
            "-d",
            "--init",
            "--name",
            "woosoo-queue",
            "--restart",
            "unless-stopped",
            "-p",
            "127.0.0.1:18000:18000",
            "-e",
            "APP_ENV",  # its value is given at run time, never shown
            "woosoo/api:1",
            "php",
            "artisan",
            "queue:work",
        ]
    ]
    assert b.stop_argv(SPEC) == [
        ["docker", "stop", "-t", "15", "woosoo-queue"],
        ["docker", "rm", "-f", "woosoo-queue"],
    ]


def test_unknown_backend_and_missing_tool() -> None:
    with pytest.raises(ServiceError, match="unknown service backend 'upstart'; use one of"):
        get_backend("upstart")
    nssm = get_backend("nssm")
    if not nssm.available():
        with pytest.raises(ServiceError, match="needs `nssm`"):
            nssm.start(SPEC)
        assert not nssm.status(SPEC).running
