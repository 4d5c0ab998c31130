"""The pipeline's stage declarations: each produced run field a stage reads is written by
itself or an earlier stage, and a stage that touches a field it does not declare fails at
once instead of depending silently on what another stage left in the run."""

from __future__ import annotations

from pathlib import Path

import pytest

from deployflow.errors import PipelineError
from deployflow.loading import load_stack
from deployflow.ops.deployrun import PRODUCED, DeployOptions, DeployRun, StageIO
from deployflow.ops.pipeline import STAGES
from deployflow.ops.runner import PlainRunner
from tests.tinystack import write_tiny_stack


def test_every_read_is_written_by_the_stage_or_one_before_it() -> None:
    written: set[str] = set()
    for stage in STAGES:
        missing = stage.io.reads - written - stage.io.writes
        assert not missing, f"{stage.name} reads {sorted(missing)} before any stage writes it"
        written |= stage.io.writes
    assert written == PRODUCED  # every field a stage produces has a stage that declares it


def test_a_stage_declares_only_fields_a_run_has() -> None:
    with pytest.raises(PipelineError, match="no such run field"):
        StageIO("odd", reads=frozenset({"kyes"}))


@pytest.fixture
def run(tmp_path: Path) -> DeployRun:
    write_tiny_stack(tmp_path, "pipe", '    steps: [["true"]]')
    ctx = load_stack(tmp_path / "deployflow.yaml", tmp_path / "root")
    return DeployRun(ctx, DeployOptions(), ["web"], "r1", None, None, PlainRunner())


def test_undeclared_reads_and_writes_fail_while_a_stage_runs(run: DeployRun) -> None:
    io = StageIO("test", reads=frozenset({"changed"}), writes=frozenset({"verified"}))
    with run.stage(io):
        assert run.changed == [] and run.verified == []
        run.verified = []
        with pytest.raises(PipelineError, match=r"stage test reads run\.snapshot"):
            _ = run.snapshot
        with pytest.raises(PipelineError, match=r"stage test writes run\.changed"):
            run.changed = ["web"]
    run.changed = ["web"]  # outside a stage: the pipeline itself
    assert run.changed == ["web"] and run.snapshot is None


def test_stages_nest_and_restore_the_outer_declaration(run: DeployRun) -> None:
    outer, inner = StageIO("a", reads=frozenset({"keys"})), StageIO("b")
    with run.stage(outer):
        with run.stage(inner), pytest.raises(PipelineError):
            _ = run.keys
        assert run.keys == {}
