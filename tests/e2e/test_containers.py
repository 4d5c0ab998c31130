"""Containers for real: the session's Docker engine (deployflow's own dockerd on a temp home,
tests/e2e/conftest.py), deployflow's Debian base made by debootstrap, and a Flask-tutorial-
shaped app built into an image from a generated Dockerfile and run as a docker service. Read
back from the engine: limits, labels, 127.0.0.1-only ports, the secret only in the container's
environment, Docker stats in health, the dependency layer reused by a code-only change, a
rollback starting the earlier image with no rebuild, blue-green over two containers; bad
input (a FROM the engine lacks, a container that exits at once or is OOM-killed) is one line
and the previous release keeps serving. Skipped, saying why, where no engine can start."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from deployflow.backends.dockerd import docker_client
from deployflow.core.containerspec import image_tag
from deployflow.errors import DeployFailed, DeployflowError
from deployflow.loading import load_stack
from deployflow.ops.deploy import deploy
from deployflow.ops.deployrun import DeployOptions
from deployflow.ops.healthview import health_report
from deployflow.ops.logs import LogQuery, log_sources, read_logs
from deployflow.ops.rollback import rollback
from deployflow.ops.runner import PlainRunner
from deployflow.stages.snapshotfile import load_snapshot
from tests.appshapes import write_shape
from tests.conftest import free_port
from tests.e2e.conftest import Engine, stop_everything
from tests.e2e.test_blue_green import Poller

SECRET = "container-only-Secret-93"
STACK = """\
project: boxed
vars: {{PORT: "{port}", API_TOKEN: {{secret: BOXED_TOKEN}}}}
paths: {{root: ./root, keep_releases: 2}}
apps:
  web:
    source: web
    docker: {{memory: 256m, cpus: 0.5}}
    shared: [instance/]
    env: {{API_TOKEN: "{{{{ API_TOKEN }}}}"}}
    # in a throwaway container of the release's image, with the app's environment
    release: [[sh, -c, 'test -f /.dockerenv && echo "$RELEASE_ID ${{#API_TOKEN}}" > instance/ran']]
    services: [web]
    health: [{{http: "http://127.0.0.1:{{{{ PORT }}}}/"}}]
services:
  web: {{backend: docker, port: "{{{{ PORT }}}}", stop_grace: 3}}
verify: {{deadline: 20, interval: 0.3}}
"""

BLUE_GREEN = """\
project: boxed
vars: {{PUBLIC: "{public}", BLUE: "{blue}", GREEN: "{green}"}}
paths: {{root: ./root, keep_releases: 3}}
apps:
  web:
    source: web
    docker: {{memory: 256m, cpus: 0.5}}
    shared: [instance/]
    services: [web]
    health: [{{http: "http://127.0.0.1:{{{{ PUBLIC }}}}/"}}]
services:
  web:
    backend: docker
    blue_green: {{ports: ["{{{{ BLUE }}}}", "{{{{ GREEN }}}}"], check: /, drain: 3}}
    start_timeout: 20
    stop_grace: 3
proxy: {{listen: "{{{{ PUBLIC }}}}", routes: {{"/": web}}}}
verify: {{deadline: 20, interval: 0.3}}
"""


def _remove_containers() -> None:
    client = docker_client()
    try:
        for box in client.containers.list(all=True, filters={"label": "deployflow.project=boxed"}):
            box.remove(force=True)
    finally:
        client.close()


def _message(base: Path, word: str) -> None:
    """The app's answer starts with `word` (a code-only change)."""
    init = base / "web" / "flaskr" / "__init__.py"
    init.write_text(
        re.sub(r"return f'\w+, instance at", f"return f'{word}, instance at", init.read_text())
    )


@pytest.fixture
def boxed(tmp_path: Path, engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    """The Flask-shaped app as a container stack in tmp_path; yields its port."""
    port = free_port()
    write_shape(tmp_path / "web", "flask")
    (tmp_path / "deployflow.yaml").write_text(STACK.format(port=port))
    monkeypatch.setenv("BOXED_TOKEN", SECRET)
    yield port
    _remove_containers()
    stop_everything(tmp_path / "root")


def test_a_container_app_deploys_changes_and_rolls_back(tmp_path: Path, boxed: int) -> None:
    port = boxed
    lines: list[str] = []

    def ship() -> dict:
        ctx = load_stack(tmp_path / "deployflow.yaml", tmp_path / "root")
        return deploy(ctx, DeployOptions(), PlainRunner(lines.append))

    client = docker_client()
    try:
        first = ship()["release"]
        url = f"http://127.0.0.1:{port}/"
        assert httpx.get(url).text == "Flaskr, instance at /app/instance"
        container = client.containers.get("boxed-web")
        host = container.attrs["HostConfig"]
        assert host["Memory"] == 256 * 2**20 and host["NanoCpus"] == 500_000_000
        assert host["PortBindings"] == {
            f"{port}/tcp": [{"HostIp": "127.0.0.1", "HostPort": str(port)}]
        }
        assert container.labels["deployflow.release"] == first
        assert f"API_TOKEN={SECRET}" in container.attrs["Config"]["Env"]
        image = client.images.get(container.attrs["Config"]["Image"])
        assert SECRET not in str(image.history()) + str(image.attrs["Config"])
        ran = tmp_path / "root" / "shared" / "web" / "instance" / "ran"  # mounted there
        assert ran.read_text().split() == [first, str(len(SECRET))]
        assert not any(SECRET in line for line in lines)
        ctx = load_stack(tmp_path / "deployflow.yaml", tmp_path / "root")
        said = [line for e in read_logs(log_sources(ctx, "web"), LogQuery()) for line in e.lines]
        assert any("Serving on http://0.0.0.0" in line for line in said)  # the container's
        [row] = [s for s in health_report(ctx)["services"] if s["name"] == "web"]
        assert row["running"] and row["rss_mb"]  # Docker stats of the container
        assert row["mem_limit_mb"] == 256 and row["cpu"] is not None
        assert row["restarts"] == 0 and row["oom_killed"] is False and row["grade"] == "ok"

        _message(tmp_path, "Changed")
        ship()
        assert httpx.get(url).text == "Changed, instance at /app/instance"
        second = client.images.get(client.containers.get("boxed-web").attrs["Config"]["Image"])
        deps = [
            layer["Id"]
            for img in (image, second)
            for layer in img.history()
            if "-r pyproject.toml" in layer["CreatedBy"]
        ]
        assert len(deps) == 2 and deps[0] == deps[1]  # the code-only change kept that layer

        lines.clear()
        ctx = load_stack(tmp_path / "deployflow.yaml", tmp_path / "root")
        rollback(ctx, first, PlainRunner(lines.append))
        assert httpx.get(url).text == "Flaskr, instance at /app/instance"
        assert client.containers.get("boxed-web").attrs["Config"]["Image"] == image.tags[0]
        assert not any("Step " in line for line in lines)  # started, not rebuilt

        _message(tmp_path, "Third")  # keep_releases 2: the oldest release is pruned
        ship()
        tags = {t for img in client.images.list() for t in img.tags}
        assert image.tags[0] not in tags and second.tags[0] in tags  # its image went with it
    finally:
        client.close()


def test_bad_images_are_one_line_and_the_live_release_keeps_serving(
    tmp_path: Path, boxed: int
) -> None:

    def ship() -> dict:
        ctx = load_stack(tmp_path / "deployflow.yaml", tmp_path / "root")
        return deploy(ctx, DeployOptions(), PlainRunner(lambda _m: None))

    url = f"http://127.0.0.1:{boxed}/"
    first = ship()["release"]
    (tmp_path / "web" / "Dockerfile").write_text("FROM nowhere/missing:1\n")
    with pytest.raises(DeployFailed, match="FROM nowhere/missing:1: the engine has no such"):
        ship()
    assert httpx.get(url).text.startswith("Flaskr")
    (tmp_path / "web" / "Dockerfile").write_text("FROM deployflow/debian:bookworm\nRUN exit 3\n")
    with pytest.raises(DeployFailed, match=r"docker build of \S+ failed: .*non-zero code: 3"):
        ship()  # a Dockerfile that fails to build
    assert httpx.get(url).text.startswith("Flaskr")
    (tmp_path / "web" / "Dockerfile").write_text('FROM deployflow/debian:bookworm\nCMD ["false"]\n')
    with pytest.raises(DeployFailed) as failed:
        ship()  # the container exits at once: verify fails, the earlier image goes back
    assert failed.value.summary["result"] == "rolled back"
    assert httpx.get(url).text.startswith("Flaskr")
    # a container the kernel OOM-kills during verify (tail holds 900 MB; its limit is 256 MB)
    dockerfile = (
        'FROM deployflow/debian:bookworm\nCMD ["sh", "-c", "head -c 900m /dev/zero | tail"]\n'
    )
    (tmp_path / "web" / "Dockerfile").write_text(dockerfile)
    with pytest.raises(DeployFailed, match=r"web: .*OOM-killed \d+ times \(memory limit 256m\)"):
        ship()
    assert httpx.get(url).text.startswith("Flaskr")
    (tmp_path / "web" / "Dockerfile").unlink()
    stack = tmp_path / "deployflow.yaml"
    original = stack.read_text()
    with socket.socket() as busy:  # a port another program holds
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        stack.write_text(original.replace(f'PORT: "{boxed}"', f'PORT: "{taken}"'))
        with pytest.raises(DeployflowError, match=rf"\b{taken}\b"):
            ship()
    stack.write_text(original)
    assert httpx.get(url).text.startswith("Flaskr")
    _message(tmp_path, "Second")
    ship()  # a good release on top of the first, whose image then goes missing
    client = docker_client()
    try:
        old = client.containers.get("boxed-web").attrs["Config"]["Image"]
        ctx = load_stack(tmp_path / "deployflow.yaml", tmp_path / "root")
        first_image = image_tag("boxed", "web", load_snapshot(ctx, first).apps["web"].key)
        client.images.remove(first_image, force=True)
    finally:
        client.close()
    with pytest.raises(DeployflowError, match=r"cannot start: image \S+ is not on the engine"):
        rollback(ctx, first, PlainRunner(lambda _m: None))
    assert httpx.get(url).text.startswith("Second")  # the live release serves on
    assert docker_client().containers.get("boxed-web").attrs["Config"]["Image"] == old


def _running(project: str = "boxed") -> dict[str, str]:
    """The project's running containers: name -> the release they belong to."""
    client = docker_client()
    try:
        boxes = client.containers.list(filters={"label": f"deployflow.project={project}"})
        return {box.name: box.labels["deployflow.release"] for box in boxes}
    finally:
        client.close()


def test_blue_green_containers_switch_without_a_failed_request(
    tmp_path: Path, engine: Engine
) -> None:
    public, blue, green = free_port(), free_port(), free_port()
    write_shape(tmp_path / "web", "flask")
    (tmp_path / "deployflow.yaml").write_text(
        BLUE_GREEN.format(public=public, blue=blue, green=green)
    )

    def ship() -> str:
        ctx = load_stack(tmp_path / "deployflow.yaml", tmp_path / "root")
        return deploy(ctx, DeployOptions(), PlainRunner(lambda _m: None))["release"]

    url = f"http://127.0.0.1:{public}/"
    try:
        first = ship()
        assert httpx.get(url).text.startswith("Flaskr")
        assert _running() == {"boxed-web-blue": first}
        poller = Poller(url)
        poller.start()
        try:
            _message(tmp_path, "Changed")
            second = ship()
            assert httpx.get(url).text.startswith("Changed")
            assert _running() == {"boxed-web-green": second}  # blue drained and removed
            ctx = load_stack(tmp_path / "deployflow.yaml", tmp_path / "root")
            rollback(ctx, first, PlainRunner(lambda _m: None))
            assert httpx.get(url).text.startswith("Flaskr")
            assert _running() == {"boxed-web-blue": first}  # its image, no rebuild
        finally:
            poller.stop.set()
            poller.join()
        assert not poller.failures, poller.failures[:3]
        # both answers only while nginx's old workers finish (its graceful reload)
        answers = [s.split(",")[0] for s in poller.seen]
        assert answers[0] == answers[-1] == "Flaskr" and "Changed" in answers
    finally:
        _remove_containers()
        stop_everything(tmp_path / "root")
