"""The fault-injection suite: for every pipeline stage, a failure (non-zero exit) and a kill -9
of the deploy's process group, plus a health check that never passes and a kill during the
rollback itself. After each: the previous release is `current`, its services answer, its
config files are byte-identical, and the next deploy works. Faults are injected through the
documented failpoints (`DEPLOYFLOW_FAILPOINTS`), so every stage is reached for real."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from deployflow.ops.pipeline import STAGES
from tests.e2e.conftest import (
    Stack,
    assert_previous_live,
    fingerprint,
    kill_at,
    new_stack,
    stop_everything,
)

# drain runs only for blue-green services (tests/e2e/test_blue_green.py injects its faults);
# release only for online release commands (tests/ops/test_release_phase.py fails it)
ONLY_ELSEWHERE = ("drain", "release")
FAULTS = [(s.name, k) for s in STAGES if s.name not in ONLY_ELSEWHERE for k in ("exit", "kill")]


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, prefect_api: str) -> Iterator[Stack]:
    """One stack deployed once; every fault below is tried against it in turn."""
    s = new_stack(tmp_path_factory.mktemp("matrix"), prefect_api)
    s.cli("run", "full")
    yield s
    stop_everything(s.root)


@pytest.mark.parametrize(("stage", "kind"), FAULTS)
def test_fault_leaves_previous_release_live(live: Stack, stage: str, kind: str) -> None:
    before, sums = live.current(), fingerprint(live)
    live.set_version("backend", f"fault-{stage}-{kind}")  # so the backend restarts
    env = {**live.env, "DEPLOYFLOW_FAILPOINTS": f"{stage}={'exit' if kind == 'exit' else 'hang'}"}
    if kind == "exit":
        proc = live.cli_env(env, "run", "full", check=False)
        assert proc.returncode == 1 and "Traceback" not in proc.stderr
        assert f"failpoint {stage}: injected failure" in proc.stderr
    else:
        kill_at(live, stage, env)
        assert "was interrupted" in live.cli("releases").stderr
        live.cli("recover")
    assert_previous_live(live, before, sums)


def test_health_that_never_passes_and_a_kill_during_rollback(live: Stack) -> None:
    before, sums = live.current(), fingerprint(live)
    app_py = live.dir / "apps" / "backend" / "app.py"
    original = app_py.read_text()
    app_py.write_text(
        original.replace(
            'ROUTES = {"/api/health": health', 'ROUTES = {"/api/health": lambda: (500, {})'
        )
    )
    proc = live.cli("run", "full", "--json", check=False)
    assert proc.returncode == 1 and json.loads(proc.stdout)["result"] == "rolled back"
    assert_previous_live(live, before, sums)
    # the same failure, and the deploy is killed while it puts the previous release back
    env = {**live.env, "DEPLOYFLOW_FAILPOINTS": "rollback=hang"}
    kill_at(live, "verify", env)  # the journal stays at verify while the rollback hangs
    live.cli("recover")
    assert_previous_live(live, before, sums)
    app_py.write_text(original)


def test_next_deploy_after_every_fault_works(live: Stack) -> None:
    live.set_version("backend", "after-faults")
    summary = json.loads(live.cli("run", "full", "--json").stdout)
    assert summary["result"] == "success" and live.health()["version"] == "after-faults"
    statuses = [r["status"] for r in live.releases()]
    assert statuses.count("live") + statuses.count("superseded") >= 1
    assert Path(live.root / "releases").is_dir()
