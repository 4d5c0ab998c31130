"""Rollouts for real over three worker "hosts" on this machine (one Prefect process worker per
target's pool, its own deploy root and port): a rolling deploy batch by batch; a host whose
health fails in the middle stops the rollout and rolls the finished host back; a canary that
fails its watch; a target whose worker is down reported unreachable; bad input refused. The
stack is a small one-service app, not the bundled example."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port
from tests.e2e.conftest import Stack, stop_everything, until

SERVER = """\
import http.server, pathlib, sys
port, broken = int(sys.argv[1]), sys.argv[2] == "1"
version = pathlib.Path("VERSION").read_text().strip()

class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        status = 500 if broken else 200
        self.send_response(status)
        self.end_headers()
        self.wfile.write(version.encode())

    def log_message(self, *args):
        print("GET", self.path, flush=True)

http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
"""

STACK = """\
project: fleet
vars: {{PORT: "8000", BROKEN: "0"}}
paths: {{root: ./hosts/default, keep_releases: 3}}
targets:
{targets}
apps:
  web:
    source: app
    services: [web]
    health:
      - http: "http://127.0.0.1:{{{{ PORT }}}}/health"
services:
  web:
    backend: process
    command: "{{{{ sys.python }}}} server.py {{{{ PORT }}}} {{{{ BROKEN }}}}"
    port: "{{{{ PORT }}}}"
    stop_grace: 3
verify: {{deadline: 4, interval: 0.2}}
rollout: {{strategy: rolling, batch: "1", max_fail: "0%", watch: 6, start_timeout: 6}}
"""

HOSTS = ("web1", "web2", "web3")


class Fleet(Stack):
    ports: dict[str, int]

    def host(self, name: str) -> Path:
        return self.dir / "hosts" / name

    def version(self, name: str) -> str | None:
        try:
            return httpx.get(f"http://127.0.0.1:{self.ports[name]}/", timeout=2).text
        except httpx.HTTPError:
            return None

    def live(self, name: str, version: str) -> bool:
        """`version` serves on `name` and its deploy has recorded the release live."""
        history = self.host(name) / ".deployflow" / "releases.jsonl"
        current = self.host(name) / "current"
        if self.version(name) != version or not current.is_symlink():
            return False
        release = os.readlink(current).rsplit("/", 1)[-1]
        events = [json.loads(line) for line in history.read_text().splitlines() if line]
        return any(e["release"] == release and e["status"] == "live" for e in events)

    def write(self, extra: dict[str, str] | None = None, more: str = "") -> None:
        lines = []
        for name in HOSTS:
            values = {"PORT": str(self.ports[name]), **((extra or {}).get(name, {}))}
            rendered = ", ".join(f'{k}: "{v}"' for k, v in values.items())
            lines.append(f"  {name}: {{root: ./hosts/{name}, vars: {{{rendered}}}}}")
        self.file.write_text(STACK.format(targets="\n".join(lines) + more))

    def rollout(self, *args: str) -> tuple[int, dict]:
        proc = self.cli("run", "full", "--json", *args, check=False)
        assert "Traceback" not in proc.stderr and proc.stdout.strip(), proc.stderr[-3000:]
        return proc.returncode, json.loads(proc.stdout)


@pytest.fixture(scope="module")
def team_server(prefect_api: str) -> Iterator[str]:
    """A shared server on PostgreSQL, as a team with several hosts runs (three workers polling a
    SQLite server stall it for up to a minute at a time): the session's own."""
    yield prefect_api


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory, team_server: str) -> Iterator[Fleet]:
    """Three hosts with their workers, shared by the tests of this module (in order)."""
    tmp_path = tmp_path_factory.mktemp("fleet")
    prefect_api = team_server
    base = tmp_path / "fleet"
    (base / "app").mkdir(parents=True)
    (base / "app" / "server.py").write_text(SERVER)
    (base / "app" / "VERSION").write_text("v1\n")
    env = {**os.environ, "PREFECT_API_URL": prefect_api, "NO_COLOR": "1"}
    env["DEPLOYFLOW_HOME"] = str(tmp_path / "home")
    env.pop("DEPLOYFLOW_ROOT", None)
    fleet = Fleet(base / "deployflow.yaml", base / "hosts" / "default", env)
    fleet.ports = {name: free_port() for name in HOSTS}
    fleet.write()
    out = fleet.cli("server", "start").stdout
    assert all(f"worker   fleet-{name}" in out for name in HOSTS), out
    fleet.cli("deployments", "apply")
    yield fleet
    fleet.cli("server", "stop", check=False)
    for name in HOSTS:
        stop_everything(fleet.host(name))


def _states(summary: dict) -> dict[str, str]:
    return {row["target"]: row["state"] for row in summary["targets"]}


def test_rolling_then_a_failing_host_rolls_back_the_finished_one(fleet: Fleet) -> None:
    code, summary = fleet.rollout()
    assert code == 0, summary
    assert summary["batches"] == [["web1"], ["web2"], ["web3"]]
    assert _states(summary) == dict.fromkeys(HOSTS, "completed")
    assert all(fleet.version(h) == "v1" for h in HOSTS)
    assert all((fleet.host(h) / "current").is_symlink() for h in HOSTS)  # each its own root
    api = fleet.env["PREFECT_API_URL"]
    for row in summary["targets"]:  # each host's deploy is a subflow of the rollout in the UI
        run = httpx.get(f"{api}/flow_runs/{row['run']}", timeout=10).json()
        assert run["parent_task_run_id"] and row["target"] in run["tags"], run

    (fleet.dir / "app" / "VERSION").write_text("v2\n")
    fleet.write({"web2": {"BROKEN": "1"}})  # web2's health fails once v2 starts there
    code, summary = fleet.rollout()
    assert code == 1, summary
    assert summary["result"] == "rolled back"
    assert _states(summary) == {"web1": "rolled back", "web2": "failed", "web3": "skipped"}
    assert [fleet.version(h) for h in HOSTS] == ["v1", "v1", "v1"]  # nobody left on v2


def test_canary_failing_its_watch_and_an_unreachable_host(fleet: Fleet) -> None:
    (fleet.dir / "app" / "VERSION").write_text("v1\n")
    fleet.write()  # every host healthy again
    code, summary = fleet.rollout("--strategy", "all-at-once")
    assert code == 0 and summary["batches"] == [list(HOSTS)], summary

    (fleet.dir / "app" / "VERSION").write_text("v3\n")
    proc = fleet.popen("run", "full", "--json", "--strategy", "canary")

    def canary_live() -> bool:  # the canary's deploy is done: now its service dies
        assert proc.poll() is None, "the rollout ended before its canary went live"
        return fleet.live("web1", "v3")

    until(canary_live, poll=0.2, what="the canary going live")
    pid = json.loads((fleet.host("web1") / ".deployflow" / "run" / "web.pid").read_text())["pid"]
    os.killpg(pid, signal.SIGKILL)
    out, err = proc.communicate(timeout=180)
    assert proc.returncode == 1, err
    summary = json.loads(out)
    assert summary["stopped"] == "canary web1 failed its watch"
    assert _states(summary) == {"web1": "rolled back", "web2": "skipped", "web3": "skipped"}
    assert [fleet.version(h) for h in HOSTS] == ["v1", "v1", "v1"]

    # a fourth target whose host runs no worker: reported unreachable in bounded time
    fleet.write(more="\n  web4: {host: elsewhere.example, root: ./hosts/web4}")
    fleet.cli("deployments", "apply")
    code, summary = fleet.rollout("--targets", "web1,web4", "--strategy", "all-at-once")
    assert code == 1
    states = {row["target"]: row for row in summary["targets"]}
    assert states["web4"]["state"] == "unreachable" and "fleet-web4" in states["web4"]["detail"]
    assert states["web1"]["state"] == "rolled back"  # 1 of 2 failed > max_fail 0%


def _approval_line(proc: subprocess.Popen) -> str:
    """The run id a paused rollout asks to approve, from its log on stderr."""
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(x) for x in proc.stderr], daemon=True).start()  # type: ignore[union-attr]
    while True:
        line = lines.get(timeout=120)
        if "waiting for approval: deployflow approve " in line:
            return line.split("deployflow approve ")[1].split()[0]


def test_plan_approve_execute_and_approval_required(fleet: Fleet) -> None:
    (fleet.dir / "app" / "VERSION").write_text("v4\n")
    fleet.write()
    plan = json.loads(fleet.cli("plan", "--save", "--targets", "web1,web2", "--json").stdout)
    assert plan["id"].startswith("p-") and plan["state"] == "DRAFT"
    assert plan["batches"] == [["web1"], ["web2"]] and plan["strategy"] == "rolling"
    stages = [s["name"] for s in plan["per_target"]["web2"]["stages"]]
    assert stages[:3] == ["preflight", "backup", "build"]
    early = fleet.cli("execute", plan["id"], check=False, stack=False)
    assert early.returncode == 2 and "approve it first" in early.stderr
    assert "APPROVED" in fleet.cli("approve", plan["id"], stack=False).stdout

    (fleet.dir / "app" / "VERSION").write_text("v5\n")  # sources changed after approval
    stale = fleet.cli("execute", plan["id"], check=False, stack=False)
    assert stale.returncode == 2 and "is stale" in stale.stderr
    (fleet.dir / "app" / "VERSION").write_text("v4\n")
    done = fleet.cli("execute", plan["id"], "--json", stack=False)
    assert _states(json.loads(done.stdout)) == {"web1": "completed", "web2": "completed"}
    assert [fleet.version(h) for h in HOSTS][:2] == ["v4", "v4"] and fleet.version("web3") != "v4"
    saved = Path(fleet.env["DEPLOYFLOW_HOME"]) / "plans" / f"{plan['id']}.json"
    assert json.loads(saved.read_text())["state"] == "COMPLETED"
    assert oct(saved.stat().st_mode & 0o777) == "0o600"

    fleet.write(more="\napproval: required")
    proc = fleet.popen("run", "full", "--json", "--targets", "web3")
    run_id = _approval_line(proc)
    assert fleet.version("web3") != "v4"  # nothing happens before approval
    assert "approved by" in fleet.cli("approve", run_id, "--note", "change 42", stack=False).stdout
    out, _err = proc.communicate(timeout=180)
    assert proc.returncode == 0 and _states(json.loads(out)) == {"web3": "completed"}
    assert fleet.version("web3") == "v4"

    rows = json.loads(fleet.cli("history", "--json", "--target", "web3", "--app", "web").stdout)
    assert rows[0]["status"] == "live" and rows[0]["current"] and rows[0]["apps"] == ["web"]
    summary = json.loads(fleet.cli("summary", "--json").stdout)
    assert set(summary["live"]) == {"web1", "web2", "web3"} and summary["completed"] >= 3
    assert summary["active"]["web3"]["web"]["release"] == summary["live"]["web3"]
    failed = json.loads(fleet.cli("history", "--json", "--status", "failed").stdout)
    assert all(r["outcome"] == "failed" for r in failed)


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--targets", "web1,nosuch"], "unknown nosuch"),
        (["--strategy", "sideways"], "--strategy"),
        (["--batch", "0"], "--batch"),
        (["--max-fail", "lots"], "--max-fail"),
    ],
)
def test_bad_rollout_input(tmp_path: Path, prefect_api: str, args: list[str], says: str) -> None:
    stack = tmp_path / "deployflow.yaml"
    (tmp_path / "app").mkdir()
    lines = "\n".join(f"  {h}: {{root: ./hosts/{h}}}" for h in HOSTS)
    stack.write_text(STACK.format(targets=lines))
    proc = subprocess.run(
        [sys.executable, "-m", "deployflow", "run", "full", *args, "--stack", str(stack)],
        capture_output=True,
        text=True,
        env={**os.environ, "PREFECT_API_URL": prefect_api},
        timeout=60,
    )
    assert proc.returncode == 2 and says in proc.stderr, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_plan_over_targets_shows_each_ones_root_and_port(fleet: Fleet) -> None:
    """Issue 28 defect 8: `plan --targets` without --save plans each target as it deploys."""
    out = fleet.cli("plan", "--targets", "web1,web2").stdout
    for name in ("web1", "web2"):
        assert f"target {name} -> {fleet.host(name).resolve()}" in out
        assert f"server.py {fleet.ports[name]}" in out
    assert str(fleet.host("web3")) not in out
    rows = json.loads(fleet.cli("plan", "--targets", "web2", "--json").stdout)
    assert [(r["target"], r["root"]) for r in rows] == [("web2", str(fleet.host("web2").resolve()))]
