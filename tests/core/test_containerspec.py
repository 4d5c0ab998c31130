"""A docker service of an app with `docker:` as data: its image tagged by build key, its
limits, restart policy, labels and shared dirs mounted where the image keeps the app."""

from __future__ import annotations

from pathlib import Path

from deployflow.core.containerspec import container_spec, image_tag, oneoff_argv
from deployflow.core.servicespec import service_spec
from deployflow.loading import load_stack

STACK = """\
project: shop
paths: {root: ./root}
apps:
  web:
    source: web
    docker: {memory: 1g, cpus: 1.5, restart: on-failure}
    shared: [instance/, uploads]
    services: [web, cron]
services:
  web: {backend: docker, port: 18100}
  cron: {command: "sleep 1"}
"""


def test_container_spec_as_data(tmp_path: Path) -> None:
    (tmp_path / "web").mkdir()
    (tmp_path / "deployflow.yaml").write_text(STACK)
    ctx = load_stack(tmp_path / "deployflow.yaml", tmp_path / "root")
    key = "ab" * 32
    web = container_spec(ctx, "web", key, "20261130000000", service_spec(ctx, "web"))
    assert web.image == image_tag("shop", "web", key) == f"deployflow/shop-web:{key[:24]}"
    assert (web.memory, web.cpus, web.restart) == ("1g", 1.5, "on-failure")
    assert web.labels == {
        "deployflow.project": "shop",
        "deployflow.app": "web",
        "deployflow.release": "20261130000000",
        "deployflow.build": key,
    }
    shared = tmp_path / "root" / "shared" / "web"
    assert web.binds == {
        str(shared / "instance"): "/app/instance",
        str(shared / "uploads"): "/app/uploads",
    }
    cron = service_spec(ctx, "cron")
    assert container_spec(ctx, "web", key, "r", cron) == cron  # a process service stays one


def test_a_release_command_runs_once_in_a_throwaway_container() -> None:
    argv = oneoff_argv(
        "unix:///tmp/d.sock",
        "deployflow/p-web:abc",
        "p-web-once-r1",
        ["flask", "init-db"],
        ["SECRET_KEY", "DATABASE_URL"],
        {"/srv/shared/web/instance": "/app/instance"},
    )
    assert argv == [
        "docker", "--host", "unix:///tmp/d.sock", "run", "--rm", "--init",
        "--name", "p-web-once-r1", "--network", "host", "-w", "/app",
        "-e", "DATABASE_URL", "-e", "SECRET_KEY",
        "-v", "/srv/shared/web/instance:/app/instance", "deployflow/p-web:abc", "flask", "init-db",
    ]  # fmt: skip
