"""The fault suite over containers: a Flask-tutorial-shaped app in a container stack, deployed
through the CLI (the first deploy through Prefect). Every pipeline stage fails (exit) and is
killed (-9 of the deploy's process group, then `recover`); after each, the previous release is
current and its container runs the earlier image and answers as before. Then the engine itself:
killed mid-deploy together with the deploy (a host crash), a deploy against the dead engine
is one line, and once the engine is back `recover` brings the last good release back."""

from __future__ import annotations

import os
from collections.abc import Iterator

import httpx
import pytest

from deployflow.backends.dockerd import docker_client
from tests.appshapes import write_shape
from tests.conftest import free_port
from tests.e2e.conftest import Engine, Stack, kill_at, stop_everything, until
from tests.e2e.test_containers import STACK, _message
from tests.e2e.test_fault_matrix import FAULTS

PROJECT = "boxfault"


def _image() -> str:
    client = docker_client()
    try:
        return client.containers.get(f"{PROJECT}-web").attrs["Config"]["Image"]
    finally:
        client.close()


def _remove_containers() -> None:
    client = docker_client()
    try:
        for box in client.containers.list(
            all=True, filters={"label": f"deployflow.project={PROJECT}"}
        ):
            box.remove(force=True)
    finally:
        client.close()


@pytest.fixture(scope="module")
def boxed(
    tmp_path_factory: pytest.TempPathFactory, docker_engine: Engine, prefect_api: str
) -> Iterator[Stack]:
    base = tmp_path_factory.mktemp(PROJECT)
    write_shape(base / "web", "flask")
    port = free_port()
    text = STACK.format(port=port).replace("project: boxed", f"project: {PROJECT}")
    text = text.replace(
        "    services: [web]\n",  # tests, in a container of the new image (the test stage)
        "    tests: [[sh, -c, 'test -f /.dockerenv && test -d .venv']]\n    services: [web]\n",
        1,
    )
    (base / "deployflow.yaml").write_text(text)
    env = {**os.environ, "PREFECT_API_URL": prefect_api, "NO_COLOR": "1"}
    env.update(DOCKER_HOST=docker_engine.url, BOXED_TOKEN="fault-suite-token")
    env.pop("DEPLOYFLOW_ROOT", None)
    s = Stack(base / "deployflow.yaml", base / "root", env)
    s.url = f"http://127.0.0.1:{port}/"  # type: ignore[attr-defined]
    saved = os.environ.get("DOCKER_HOST")
    os.environ["DOCKER_HOST"] = docker_engine.url  # for this module's own engine calls
    try:
        s.cli("run", "full")  # through Prefect
        yield s
        _remove_containers()
    finally:
        stop_everything(s.root)
        if saved is None:
            os.environ.pop("DOCKER_HOST", None)
        else:
            os.environ["DOCKER_HOST"] = saved


def _answer(s: Stack) -> str:
    return httpx.get(s.url, timeout=5).text  # type: ignore[attr-defined]


def _answers(s: Stack, text: str) -> bool:
    try:
        return _answer(s) == text
    except httpx.HTTPError:
        return False


@pytest.mark.parametrize(("stage", "kind"), FAULTS)
def test_a_fault_in_a_container_deploy_leaves_the_previous_release_serving(
    boxed: Stack, stage: str, kind: str
) -> None:
    before, image, answer = boxed.current(), _image(), _answer(boxed)
    _message(boxed.dir, f"F{stage.replace('-', '')}{kind}")  # a new image: the container restarts
    env = {**boxed.env, "DEPLOYFLOW_FAILPOINTS": f"{stage}={'exit' if kind == 'exit' else 'hang'}"}
    if kind == "exit":
        proc = boxed.cli_env(env, "run", "full", "--plain", check=False)
        assert proc.returncode == 1 and "Traceback" not in proc.stderr
        assert f"failpoint {stage}: injected failure" in proc.stderr
    else:
        kill_at(boxed, stage, env)
        boxed.cli("recover")
    assert boxed.current() == before and _image() == image
    assert _answer(boxed) == answer


def test_the_engine_killed_mid_deploy_then_recover(boxed: Stack, docker_engine: Engine) -> None:
    before, image, answer = boxed.current(), _image(), _answer(boxed)
    _message(boxed.dir, "Crashed")
    env = {**boxed.env, "DEPLOYFLOW_FAILPOINTS": "verify=hang"}
    kill_at(boxed, "verify", env)  # the new container started; the deploy dies, then the engine
    assert _image() != image
    docker_engine.kill()
    try:
        proc = boxed.cli("run", "full", "--plain", check=False)
        assert proc.returncode == 1 and "Traceback" not in proc.stderr
        [said] = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
        assert "Docker engine does not answer" in said and "nothing answers on its socket" in said
    finally:
        docker_engine.start()
    boxed.cli("recover")
    assert boxed.current() == before and _image() == image
    until(lambda: _answers(boxed, answer), timeout=30)
    _message(boxed.dir, "Afterwards")
    boxed.cli("run", "full", "--plain")  # and the next deploy works
    assert _answer(boxed).startswith("Afterwards")
