"""Benchmark (not a test): how soon a run started in the background begins its first stage.

A. `deployflow run full` in the foreground, run in the CLI process (DEPLOYFLOW_WARM=0): from the
   command's start to its first task run starting (the baseline: no worker, no queue).
B. `deployflow run full --background`: from the command's start to the first task run starting
   on the worker.
C. A signed GitHub push to `deployflow webhook serve`: from the POST to the first task run.
D. `deployflow run full` in the foreground through the warm worker (the default when it runs).
The worker's poll interval and the flow process start-up (run picked up -> flow running) are
the floor of B and C; they are printed next to the ratios. Runs alternate A B C D.
Usage: .venv/bin/python bench/background.py [--runs N]
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from example import free_port, prepare

SECRET = "bench-secret"


def _stamp(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def first_task_start(api: str, run_id: str, timeout: float = 120) -> float:
    ends = time.monotonic() + timeout
    body = {"flow_runs": {"id": {"any_": [run_id]}}, "sort": "EXPECTED_START_TIME_ASC", "limit": 50}
    while time.monotonic() < ends:
        tasks = httpx.post(f"{api}/task_runs/filter", json=body, timeout=60).json()
        starts = [_stamp(t["start_time"]) for t in tasks if t.get("start_time")]
        if starts:
            return min(starts)
        time.sleep(0.05)
    raise SystemExit(f"run {run_id} never started a task")


def wait_done(api: str, run_id: str) -> dict:
    while True:
        run = httpx.get(f"{api}/flow_runs/{run_id}", timeout=60).json()
        if run["state_type"] in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED"):
            return run
        time.sleep(0.2)


def newest_deploy_run(api: str) -> str:
    body = {"flows": {"name": {"any_": ["deploy"]}}, "sort": "START_TIME_DESC", "limit": 1}
    return httpx.post(f"{api}/flow_runs/filter", json=body, timeout=60).json()[0]["id"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="deployflow-bench-bg-"))
    stack = prepare(work)
    stack_dir = stack.parent
    env = {
        **os.environ,
        "DEPLOYFLOW_ROOT": str(work / "root"),
        "DEPLOYFLOW_HOME": str(work / "home"),
    }
    env.update(WOOSOO_GITHUB_SECRET=SECRET, NO_COLOR="1")
    env.pop("PREFECT_API_URL", None)
    df = [sys.executable, "-m", "deployflow"]

    def cli(*a: str, warm: bool = True) -> str:
        proc = subprocess.run(
            [*df, *a, "--stack", str(stack)],
            env=env if warm else {**env, "DEPLOYFLOW_WARM": "0"},
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0:
            raise SystemExit(f"{a} failed: {proc.stderr[-2000:]}")
        return proc.stdout

    hook_port = free_port()
    hooks = None
    try:
        print("warm-up: server, worker, first release, deployments ...", flush=True)
        cli("server", "start")
        api = json.loads(cli("run", "full", "--background", "--json"))
        status = subprocess.run([*df, "server", "status"], env=env, capture_output=True, text=True)
        api_url = status.stdout.split()[1]
        env["PREFECT_API_URL"] = api_url
        wait_done(api_url, api["id"])
        hooks = subprocess.Popen(
            [*df, "webhook", "serve", "--port", str(hook_port), "--stack", str(stack)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        stack.write_text(stack.read_text())
        time.sleep(3)
        fg, bg, wh, wf, pickup = [], [], [], [], []
        for i in range(args.runs):
            (stack_dir / "apps" / "backend" / "VERSION").write_text(f"bench-{i}-a\n")
            t0 = time.time()
            cli("run", "full", "--skip-backup", "--json", warm=False)
            fg.append(first_task_start(api_url, newest_deploy_run(api_url)) - t0)

            (stack_dir / "apps" / "backend" / "VERSION").write_text(f"bench-{i}-b\n")
            t0 = time.time()
            row = json.loads(cli("run", "full", "--background", "--skip-backup", "--json"))
            bg.append(first_task_start(api_url, row["id"]) - t0)
            run = wait_done(api_url, row["id"])
            pickup.append(_stamp(run["start_time"]) - _stamp(run["created"]))

            (stack_dir / "apps" / "backend" / "VERSION").write_text(f"bench-{i}-c\n")
            body = json.dumps(
                {
                    "ref": "refs/heads/main",
                    "after": f"{i:040d}",
                    "repository": {"full_name": "acme/woosoo"},
                }
            ).encode()
            sig = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
            headers = {
                "X-GitHub-Event": "push",
                "X-GitHub-Delivery": str(uuid.uuid4()),
                "X-Hub-Signature-256": sig,
            }
            t0 = time.time()
            answer = httpx.post(
                f"http://127.0.0.1:{hook_port}/hooks/github",
                content=body,
                headers=headers,
                timeout=60,
            )
            run_id = answer.json()["run"]
            wh.append(first_task_start(api_url, run_id) - t0)
            wait_done(api_url, run_id)

            (stack_dir / "apps" / "backend" / "VERSION").write_text(f"bench-{i}-d\n")
            t0 = time.time()
            cli("run", "full", "--skip-backup", "--json")
            wf.append(first_task_start(api_url, newest_deploy_run(api_url)) - t0)

        def line(name: str, values: list[float]) -> str:
            runs = ", ".join(f"{v:.2f}" for v in values)
            return f"  {name:34} median {statistics.median(values):5.2f} s   runs {runs}"

        print("\nseconds from the start to the first stage running")
        print(line("A foreground run full (baseline)", fg))
        print(line("B run full --background", bg))
        print(line("C webhook POST", wh))
        print(line("D foreground run full, warm worker", wf))
        print(
            f"  ratio B/A: {statistics.median(bg) / statistics.median(fg):.2f}x   "
            f"ratio C/A: {statistics.median(wh) / statistics.median(fg):.2f}x"
        )
        from deployflow.backends.workers import POLL_SECONDS

        print(
            f"  floor: worker poll interval {POLL_SECONDS} s; run created -> flow running "
            f"median {statistics.median(pickup):.2f} s (worker pickup + flow process start-up)"
        )
    finally:
        if hooks:
            hooks.terminate()
        subprocess.run(
            [*df, "services", "stop", "all", "--stack", str(stack)], env=env, capture_output=True
        )
        env.pop("PREFECT_API_URL", None)
        subprocess.run([*df, "server", "stop", "--stack", str(stack)], env=env, capture_output=True)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
