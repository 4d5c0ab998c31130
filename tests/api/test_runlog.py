"""A deploy run's output as a deployment's log: Prefect's prefix shortened, noise dropped, the
lifecycle read off it, and a failure told by the line that carries it."""

from __future__ import annotations

from deployflow.api.runlog import KINDS, error_kind, failure, lifecycle, released, tidy

FLOW = "09:01:55.315 | INFO    | Flow run 'deploy-platform' - "
TASK = "09:01:56.001 | INFO    | Task run 'build-1a2' - "


def test_tidy_shortens_prefect_lines_and_drops_noise() -> None:
    assert tidy(FLOW + "release 20261130090155: live\n") == "09:01:55 release 20261130090155: live"
    assert tidy(TASK + "Finished in state Completed()") is None
    assert tidy("# deployflow app: platform   ") == "# deployflow app: platform"


def test_lifecycle_and_the_release_that_went_live() -> None:
    lines = [tidy(FLOW + f"release 7: {s}") for s in ("created", "building", "deploying")]
    assert [lifecycle(line) for line in lines] == [None, "building", "deploying"]
    assert released(lines) is None
    assert released([*lines, tidy(FLOW + "release 7: live")]) == "7"
    assert lifecycle("09:01:55 site: release 7: live is what I said") is None


def test_failure_names_the_cli_error_line_then_the_tail() -> None:
    lines = [f"09:00:{n:02d} step {n}" for n in range(30)]
    lines += ["error: deploy failed at build: hello: dependencies step 2/3 exited 1"]
    told = failure(lines, 1)
    head, _, tail = told.partition("\n--- the log's last lines ---\n")
    assert head == lines[-1]
    assert tail.splitlines() == lines[-20:]
    assert failure([], 3).startswith("the deploy run exited 3")


def test_error_kinds_come_from_the_failed_stage_or_what_ran_out() -> None:
    table = ["| stage | result | seconds | detail |", "| preflight | ok | 0.04 | 4 checks |"]
    assert error_kind([*table, "| build | FAILED | 0.64 | exited 1 |"]) == "build"
    assert error_kind([*table, "| verify | FAILED | 9.1 | HTTP 502 |"]) == "runtime"
    assert error_kind(["| preflight | FAILED | 0.1 | port 9100 taken |"]) == "preflight"
    full = "09:00:01 OSError: [Errno 28] No space left on device: 'x'"
    assert error_kind([full, "| build | FAILED | 1.0 | |"]) == "resources"
    assert error_kind(["a room with a view", "| test | FAILED | 1 | |"]) == "build"
    assert error_kind(["something odd"]) == "internal"
    assert {KINDS[k] for k in ("build", "detection")} == {422} and KINDS["resources"] == 507
