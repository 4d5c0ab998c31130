"""A deploy run as a deployment: Prefect's prefix shortened, noise dropped, the lifecycle read
off the lines for progress, and the end taken from the run's JSON summary."""

from __future__ import annotations

from deployflow.api.runlog import KINDS, Ended, ended, lifecycle, tidy

FLOW = "09:01:55.315 | INFO    | Flow run 'deploy-platform' - "
TASK = "09:01:56.001 | INFO    | Task run 'build-1a2' - "


def _summary(result: str, error: str | None = None, **stages: str) -> dict:
    rows = [{"name": name, "status": status} for name, status in stages.items()]
    return {"result": result, "error": error, "stages": rows, "release": "7", "live": "6"}


def test_tidy_shortens_prefect_lines_and_drops_noise() -> None:
    assert tidy(FLOW + "release 20261130090155: live\n") == "09:01:55 release 20261130090155: live"
    assert tidy(TASK + "Finished in state Completed()") is None
    assert tidy("# deployflow app: platform   ") == "# deployflow app: platform"


def test_lifecycle_names_the_release_and_its_state() -> None:
    lines = [tidy(FLOW + f"release 7: {s}") or "" for s in ("created", "building", "live")]
    assert [lifecycle(line) for line in lines] == [None, ("7", "building"), ("7", "live")]
    assert lifecycle("09:01:55 site: release 7: live is what I said") is None


def test_live_only_with_a_successful_summary_and_exit_0() -> None:
    assert ended(_summary("success"), [], 0) == Ended(True)
    assert not ended(None, [], 0).live  # exited 0 but printed no summary: not claimed live
    assert not ended(_summary("success"), [], 1).live


def test_the_error_is_the_runs_own_then_the_logs_tail() -> None:
    lines = [f"09:00:{n:02d} step {n}" for n in range(30)]
    error = "hello: dependencies step 2/3 exited 1"
    end = ended(_summary("rolled back", error, preflight="ok", build="failed"), lines, 1)
    head, _, tail = (end.error or "").partition("\n--- the log's last lines ---\n")
    assert head == f"{error} (rolled back)" and end.kind == "build"
    assert tail.splitlines() == lines[-20:]


def test_without_a_summary_the_cli_line_or_the_signal_tells_it() -> None:
    lines = ["09:00:01 starting", "error: another operation holds the lock; wait for it"]
    end = ended(None, lines, 1)
    assert (end.error or "").startswith(lines[-1]) and end.kind == "internal"
    killed = ended(None, ["09:00:01 starting"], -9)
    assert (killed.error or "").startswith("the deploy run was killed (-9)")
    assert killed.kind == "interrupted"


def test_error_kinds_come_from_the_failed_stage_or_what_ran_out() -> None:
    def kind(summary: dict, lines: list[str] | None = None) -> str | None:
        return ended(summary, lines or [], 1).kind

    assert kind(_summary("rolled back", "HTTP 502", start="ok", verify="failed")) == "runtime"
    assert kind(_summary("failed", "port 9100 taken", preflight="failed")) == "preflight"
    assert kind(_summary("rolled back", "x", test="failed")) == "build"
    full = "09:00:01 OSError: [Errno 28] No space left on device: 'x'"
    assert kind(_summary("rolled back", "x", build="failed"), [full]) == "resources"
    assert kind(_summary("failed", "odd")) == "internal"
    assert {KINDS[k] for k in ("build", "detection")} == {422} and KINDS["resources"] == 507
