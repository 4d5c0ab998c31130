"""The rollout operation with a fake dispatcher (no Prefect, no workers): batches in order, a
stop past max_fail, the targets done rolled back, and a headline that names the targets a
failed rollback left on the new release."""

from __future__ import annotations

from typing import Any

import pytest

from deployflow.errors import DeployFailed
from deployflow.ops.rollout import Outcome, RolloutSettings, rollout


class FakeDispatcher:
    """Runs end as `outcomes` says ((kind, target) -> state; completed by default)."""

    def __init__(self, outcomes: dict[tuple[str, str], str]) -> None:
        self.outcomes = outcomes
        self.started: list[tuple[str, str]] = []

    def start(self, kind: str, target: str, parameters: dict[str, Any]) -> str:
        self.started.append((kind, target))
        return f"{kind}-{target}"

    def wait(self, runs: dict[str, str], start_timeout: float) -> dict[str, Outcome]:
        return {
            t: Outcome(self.outcomes.get((run.split("-", 1)[0], t), "completed"))
            for t, run in runs.items()
        }


def _settings(**kw: Any) -> RolloutSettings:
    return RolloutSettings(targets=["web1", "web2", "web3"], strategy="rolling", **kw)


def test_batches_in_order_and_success() -> None:
    fake = FakeDispatcher({})
    summary = rollout(_settings(), {}, fake, lambda _m: None)
    assert summary["result"] == "success"
    assert fake.started == [("deploy", "web1"), ("deploy", "web2"), ("deploy", "web3")]


def test_a_failure_stops_and_rolls_back_what_was_done() -> None:
    fake = FakeDispatcher({("deploy", "web2"): "failed"})
    with pytest.raises(DeployFailed) as failed:
        rollout(_settings(), {}, fake, lambda _m: None)
    summary = failed.value.summary
    assert summary["result"] == "rolled back"
    states = {r["target"]: r["state"] for r in summary["targets"]}
    assert states == {"web1": "rolled back", "web2": "failed", "web3": "skipped"}
    assert ("deploy", "web3") not in fake.started


def test_a_failed_rollback_is_named_in_the_headline() -> None:
    fake = FakeDispatcher({("deploy", "web3"): "failed", ("rollback", "web1"): "failed"})
    with pytest.raises(DeployFailed) as failed:
        rollout(_settings(), {}, fake, lambda _m: None)
    summary = failed.value.summary
    assert summary["result"] == "rollback failed: web1 left on the new release"
    assert str(failed.value).startswith("rollout rollback failed: web1 left on the new release")
