"""The deploy and rollback operations in this process with the plain runner (no Prefect, no
CLI): real files, symlinks and service processes on a one-app stack, in about a second each.
The e2e suite runs the same operations through the CLI and Prefect."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from deployflow.errors import DeployFailed
from deployflow.loading import load_stack
from deployflow.ops.deploy import deploy
from deployflow.ops.deployrun import DeployOptions
from deployflow.ops.rollback import rollback
from deployflow.ops.runner import PlainRunner
from tests.e2e.conftest import stop_everything
from tests.tinystack import write_tiny_stack


class Tiny:
    def __init__(self, base: Path) -> None:
        self.base = base
        self.port = write_tiny_stack(base, "opsdeploy", '    steps: [["true"]]')
        self.lines: list[str] = []

    def ctx(self):
        return load_stack(self.base / "deployflow.yaml", self.base / "root")

    def deploy(self, version: str) -> dict:
        (self.base / "app" / "VERSION").write_text(version + "\n")
        return deploy(self.ctx(), DeployOptions(), PlainRunner(self.lines.append))

    def serving(self) -> str:
        return httpx.get(f"http://127.0.0.1:{self.port}/", timeout=5).text

    def current(self) -> str:
        return (self.base / "root" / "current").readlink().name


@pytest.fixture
def tiny(tmp_path: Path) -> Iterator[Tiny]:
    t = Tiny(tmp_path)
    yield t
    stop_everything(tmp_path / "root")


def test_deploy_then_a_failing_release_is_rolled_back(tiny: Tiny) -> None:
    first = tiny.deploy("v1")
    assert first["result"] == "success" and tiny.serving() == "v1"
    stages = {s["name"]: s for s in first["stages"]}
    assert stages["verify"]["detail"] == "1 checks passed"
    with pytest.raises(DeployFailed) as failed:
        tiny.deploy("broken")  # its health check answers 500
    summary = failed.value.summary
    assert summary["result"] == "rolled back" and summary["live"] == first["release"]
    assert tiny.current() == first["release"] and tiny.serving() == "v1"
    history = [
        json.loads(line)
        for line in (tiny.base / "root" / ".deployflow" / "releases.jsonl").read_text().split("\n")
        if line
    ]
    assert history[-1]["release"] == summary["release"] and history[-1]["status"] == "failed"
    # the lifecycle, read back from the history and the reports
    states = [e["status"] for e in history if e["release"] == first["release"]]
    assert states == ["created", "building", "deploying", "live"]
    assert [s for s, _t in first["lifecycle"]] == states
    assert [s for s, _t in summary["lifecycle"]][-1] == "failed"
    report = (tiny.base / "root" / ".deployflow" / "reports").glob(f"{summary['release']}*.md")
    assert "deploying" in next(report).read_text().split("Lifecycle:")[1].split("\n")[0]
    assert "release " + summary["release"] + ": deploying" in tiny.lines


def test_a_release_that_changed_nothing_still_verifies(tiny: Tiny) -> None:
    tiny.deploy("v1")
    again = deploy(tiny.ctx(), DeployOptions(), PlainRunner(tiny.lines.append))
    stages = {s["name"]: s for s in again["stages"]}
    assert again["result"] == "success" and stages["verify"]["detail"] == "1 checks passed"


def test_rollback_goes_back_and_reports_it(tiny: Tiny) -> None:
    first = tiny.deploy("v1")["release"]
    tiny.deploy("v2")
    assert tiny.serving() == "v2"
    back = rollback(tiny.ctx(), None, PlainRunner(tiny.lines.append))
    assert back["result"] == "success" and back["live"] == first
    assert tiny.current() == first and tiny.serving() == "v1"
