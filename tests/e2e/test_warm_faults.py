"""The fault-injection suite on the warm path: the pool's warm worker is up, so `run full` in the
foreground creates the run over the API and the worker forks it from its zygote. For every
pipeline stage a failure (the failpoint set for the command reaches the forked run), and for the
stages that touch live services a kill -9 of the forked run itself: the worker reports it
crashed, the recover-on-crash automation runs `recover` on the same worker. After each, the
previous release is live with its own configs and services."""

from __future__ import annotations

import os
import re
import signal
import threading
from collections.abc import Iterator

import httpx
import psutil
import pytest

from deployflow.ops.pipeline import STAGES
from tests.e2e.conftest import (
    Stack,
    assert_previous_live,
    fingerprint,
    new_stack,
    stop_everything,
    until,
)

# drain: blue-green only; release: online release commands only
EXITS = [s.name for s in STAGES if s.name not in ("drain", "release")]
KILLS = ["stop", "switch", "start", "verify"]  # the stages that change what is live
FINAL = ("COMPLETED", "FAILED", "CRASHED")


@pytest.fixture(scope="module")
def warm(tmp_path_factory: pytest.TempPathFactory, prefect_api: str) -> Iterator[Stack]:
    base = tmp_path_factory.mktemp("warmfaults")
    s = new_stack(base, prefect_api)
    s.env["DEPLOYFLOW_HOME"] = str(base / "home")
    s.env["DEPLOYFLOW_RECOVER_CHECK_SECONDS"] = "2"  # the worker's crash backstop, quickly
    s.cli("run", "full")
    s.cli("deployments", "apply")
    s.cli("server", "start")  # the pool's worker (the API is the tests' own server)
    log = base / "home" / "workers" / "woosoo-local.log"
    until(lambda: "is warm" in (log.read_text() if log.is_file() else ""))
    yield s
    s.cli("server", "stop", check=False)
    stop_everything(s.root)


@pytest.mark.parametrize("stage", EXITS)
def test_a_failing_stage_on_the_warm_worker(warm: Stack, stage: str) -> None:
    before, sums = warm.current(), fingerprint(warm)
    warm.set_version("backend", f"warm-exit-{stage}")
    env = {**warm.env, "DEPLOYFLOW_FAILPOINTS": f"{stage}=exit"}
    proc = warm.cli_env(env, "run", "full", check=False)
    assert "on the warm worker" in proc.stderr
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert f"failpoint {stage}: injected failure" in proc.stderr
    assert_previous_live(warm, before, sums)


class Following:
    """`deployflow run full` started in the background, its standard error read as it comes
    (a thread), so the test knows which run it started and can always stop what it left."""

    def __init__(self, stack: Stack, env: dict[str, str]) -> None:
        self.stack = stack
        self.proc = stack.popen_env(env, "run", "full")
        self.err: list[str] = []
        assert self.proc.stderr is not None
        self._reader = threading.Thread(target=self._read, args=(self.proc.stderr,), daemon=True)
        self._reader.start()
        self.pid: int | None = None

    def _read(self, stream) -> None:
        for line in stream:
            self.err.append(line)

    def run_id(self) -> str:
        """The id of the run the CLI created on the warm worker (it says so first)."""

        def said() -> str | None:
            for line in self.err:
                if "not on a warm worker" in line:
                    log = self.stack.dir.parent / "home" / "workers" / "woosoo-local.log"
                    raise AssertionError(f"{line}worker log:\n{log.read_text()[-3000:]}")
                if found := re.search(r"\(([0-9a-f-]{36})\) on the warm worker", line):
                    return found[1]
            assert self.proc.poll() is None, "".join(self.err)[-2000:]
            return None

        return until(said)

    def run_pid(self, api: str) -> int:
        """The forked process of the run, as the worker recorded it ("host:pid")."""
        url = f"{api}/flow_runs/{self.run_id()}"
        recorded = until(lambda: httpx.get(url).json().get("infrastructure_pid"))
        self.pid = int(recorded.rsplit(":", 1)[-1])
        return self.pid

    def ended(self, timeout: float) -> str:
        """Its standard error once it exited (within `timeout` s)."""
        self.proc.wait(timeout=timeout)
        self._reader.join(timeout=10)
        assert self.proc.returncode == 1, "".join(self.err)[-2000:]
        return "".join(self.err)

    def __enter__(self) -> Following:
        return self

    def __exit__(self, *_exc: object) -> None:
        """A test that failed half way stops the CLI and the run, and puts the root back, so
        the tests after it start from a live release."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            if self.pid is not None and psutil.pid_exists(self.pid):
                os.killpg(self.pid, signal.SIGKILL)
            self.proc.wait()
            self.stack.cli_env({**self.stack.env, "DEPLOYFLOW_WARM": "0"}, "recover", check=False)


@pytest.mark.parametrize("stage", KILLS)
def test_a_killed_run_on_the_warm_worker_is_recovered(
    warm: Stack, stage: str, prefect_api: str
) -> None:
    before, sums = warm.current(), fingerprint(warm)
    warm.set_version("backend", f"warm-kill-{stage}")
    env = {**warm.env, "DEPLOYFLOW_FAILPOINTS": f"{stage}=hang"}
    journal = warm.root / ".deployflow" / "journal.json"
    with Following(warm, env) as run:
        until(lambda: journal.exists() and f'"phase": "{stage}"' in journal.read_text())
        pid = run.run_pid(prefect_api)
        assert "deployflow.warm.zygote" in " ".join(psutil.Process(pid).cmdline())  # a fork
        os.killpg(pid, signal.SIGKILL)  # the run's whole process group, as a crash would
        assert "ended CRASHED" in run.ended(timeout=120)
    # the worker marked it crashed; the automation's `recover` puts the last good one back
    until(lambda: not journal.exists() and warm.current() == before)
    assert_previous_live(warm, before, sums)


def test_a_killed_warm_worker_ends_the_followed_run_at_once(warm: Stack) -> None:
    """The worker and its zygote killed mid-deploy (the forked run dies with them): the CLI
    following it notices, marks the run crashed and says what to do; recover puts it back."""
    import json

    before, sums = warm.current(), fingerprint(warm)
    warm.set_version("backend", "warm-worker-killed")
    env = {**warm.env, "DEPLOYFLOW_FAILPOINTS": "start=hang"}
    journal = warm.root / ".deployflow" / "journal.json"
    with Following(warm, env) as run:
        run.run_id()
        until(lambda: journal.exists() and '"phase": "start"' in journal.read_text())
        state = warm.dir.parent / "home" / "workers" / "woosoo-local.json"
        os.killpg(json.loads(state.read_text())["pid"], signal.SIGKILL)
        err = run.ended(timeout=60)  # it used to follow a dead run for ~100 s
        assert "died during the run" in err and "ended CRASHED" in err
    warm.cli("server", "start")  # the worker back: it runs the recover the crash called for
    log = warm.dir.parent / "home" / "workers" / "woosoo-local.log"
    until(lambda: log.read_text().count("is warm") >= 2)
    until(lambda: not journal.exists() and warm.current() == before)
    assert_previous_live(warm, before, sums)


def test_a_crash_the_automation_misses_is_recovered_by_the_worker(
    warm: Stack, prefect_api: str
) -> None:
    """Without the recover-on-crash automation (it missed 2 of 10 crashes when tried), the
    worker's own check starts `recover` for a crashed deploy that has none after it."""
    found = httpx.post(f"{prefect_api}/automations/filter", json={}).json()
    for automation in found:
        if automation["name"].endswith("recover-on-crash"):
            httpx.delete(f"{prefect_api}/automations/{automation['id']}")
    try:
        before, sums = warm.current(), fingerprint(warm)
        warm.set_version("backend", "warm-missed-crash")
        env = {**warm.env, "DEPLOYFLOW_FAILPOINTS": "switch=hang"}
        journal = warm.root / ".deployflow" / "journal.json"
        with Following(warm, env) as run:
            until(lambda: journal.exists() and '"phase": "switch"' in journal.read_text())
            os.killpg(run.run_pid(prefect_api), signal.SIGKILL)
            assert "ended CRASHED" in run.ended(timeout=120)
        until(lambda: not journal.exists() and warm.current() == before)
        assert_previous_live(warm, before, sums)
        log = warm.dir.parent / "home" / "workers" / "woosoo-local.log"
        assert "had no recover run; started one" in log.read_text()
    finally:
        warm.cli("deployments", "apply")  # the automation back


def test_a_run_naming_another_stack_or_root_is_refused(
    warm: Stack, prefect_api: str, tmp_path
) -> None:
    """Whoever can start a run (a UI form, the API) cannot point the worker at another stack's
    build steps or another root: those are fixed when the deployment is applied."""
    before = warm.current()
    evil = tmp_path / "evil.yaml"
    evil.write_text(warm.file.read_text())
    deployment = httpx.get(f"{prefect_api}/deployments/name/deploy/woosoo-local").json()
    assert deployment["parameters"]["root"] == str(warm.root)  # fixed at apply
    for params in ({"stack": str(evil)}, {"root": str(tmp_path / "elsewhere")}):
        run = httpx.post(
            f"{prefect_api}/deployments/{deployment['id']}/create_flow_run",
            json={"parameters": params},
        ).json()
        url = f"{prefect_api}/flow_runs/{run['id']}"
        until(lambda url=url: httpx.get(url).json()["state"]["type"] in FINAL)
        state = httpx.get(url).json()["state"]
        assert state["type"] == "FAILED" and "a run cannot name another" in state["message"]
    assert not (tmp_path / "elsewhere").exists() and warm.current() == before


def test_the_next_warm_deploy_works(warm: Stack) -> None:
    warm.set_version("backend", "warm-after-faults")
    proc = warm.cli("run", "full")
    assert "on the warm worker" in proc.stderr and "- **Result:** success" in proc.stdout
    assert warm.health()["version"] == "warm-after-faults"
