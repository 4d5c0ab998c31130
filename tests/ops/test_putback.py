"""The put-back as a list of steps, each a journal phase and a failpoint: a deploy fails its
verify, then its put-back fails at each step in turn; the journal says so, and `recover` puts
the previous release back, serving again. Read back from `current`, the journal and HTTP."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from deployflow.errors import DeployFailed
from deployflow.loading import load_stack
from deployflow.ops.deploy import deploy
from deployflow.ops.deployrun import DeployOptions
from deployflow.ops.putback import PUT_BACK, recover_root
from deployflow.ops.runner import PlainRunner
from tests.e2e.conftest import stop_everything
from tests.tinystack import write_tiny_stack


@pytest.mark.parametrize("step", [name for name, _ in PUT_BACK])
def test_a_put_back_failing_at_any_step_is_finished_by_recover(
    tmp_path: Path, step: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = write_tiny_stack(tmp_path, "putback", '    steps: [["true"]]')
    lines: list[str] = []

    def ctx():
        return load_stack(tmp_path / "deployflow.yaml", tmp_path / "root")

    def version(text: str) -> None:
        (tmp_path / "app" / "VERSION").write_text(text + "\n")

    try:
        version("v1")
        first = deploy(ctx(), DeployOptions(), PlainRunner(lines.append))["release"]
        version("v2")
        monkeypatch.setenv("DEPLOYFLOW_FAILPOINTS", f"verify=exit,put-back-{step}=exit")
        with pytest.raises(DeployFailed) as failed:
            deploy(ctx(), DeployOptions(), PlainRunner(lines.append))
        assert failed.value.summary["result"] == "failed, rollback failed"
        journal = json.loads((tmp_path / "root" / ".deployflow" / "journal.json").read_text())
        assert journal["phase"] == "rollback failed" and journal["previous"] == first

        monkeypatch.delenv("DEPLOYFLOW_FAILPOINTS")
        recovered = recover_root(ctx(), lines.append)
        assert recovered.restored == first
        assert (tmp_path / "root" / "current").readlink().name == first
        assert httpx.get(f"http://127.0.0.1:{port}/", timeout=5).text == "v1"
        assert not (tmp_path / "root" / ".deployflow" / "journal.json").exists()
    finally:
        stop_everything(tmp_path / "root")
