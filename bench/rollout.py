"""Benchmark (not a test): rollouts over N local worker-hosts (N = 1, 3, 6 by default), each
with its own deploy root, port and Prefect process worker, started by `deployflow server start`
against a Prefect server on a throwaway PostgreSQL (several workers stall a SQLite server for up
to a minute at a time; a fleet shares a server on PostgreSQL). For each N: a rolling rollout with
batch 1 and one with batch N, through `deployflow run full`. The per-host deploy's own time is
its flow run's run time (the stages, as the worker ran them); the overhead is everything else:
the rollout flow, the API, the worker's pick-up and its process start. Aim: under 1 s per host
on top of the deploy.
Usage: .venv/bin/python bench/rollout.py [--hosts 1,3,6]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.e2e.pgserver import postgres, prefect_server  # noqa: E402
from tests.e2e.test_rollout import SERVER, STACK  # noqa: E402 (the same small app as the tests)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cli(env: dict[str, str], stack: Path, *args: str, check: bool = True) -> str:
    argv = [sys.executable, "-m", "deployflow", *args, "--stack", str(stack)]
    proc = subprocess.run(argv, env=env, capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise SystemExit(f"{' '.join(args)} exited {proc.returncode}:\n{proc.stdout[-2000:]}")
    return proc.stdout


def measure(
    env: dict[str, str], stack: Path, hosts: int, batch: int, version: str, label: str = ""
) -> None:
    (stack.parent / "app" / "VERSION").write_text(version + "\n")
    started = time.perf_counter()
    argv = ["run", "full", "--json", "--targets", "all", "--strategy", "rolling"]
    out = cli(env, stack, *argv, "--batch", str(batch))
    wall = time.perf_counter() - started
    summary = json.loads(out)
    runs = [row["seconds"] for row in summary["targets"]]
    assert summary["result"] == "success", summary
    # batch 1: one deploy after another; batch N: all at once (the slowest one counts)
    deploys = sum(runs) if batch == 1 else max(runs)
    overhead = (wall - deploys) / hosts
    print(
        f"{label}N={hosts} batch {batch}: {wall:5.1f} s in all, {wall / hosts:4.1f} s per host; "
        f"deploys {deploys:4.1f} s; overhead {overhead:4.1f} s per host"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", default="1,3,6")
    args = parser.parse_args()
    with postgres() as db, prefect_server(db, Path(tempfile.mkdtemp())) as (url, _port):
        for hosts in [int(n) for n in args.hosts.split(",")]:
            one_size(url, hosts)


def one_size(url: str, hosts: int) -> None:
    """Rollouts over `hosts` targets, each with its own root, port and worker."""
    work = Path(tempfile.mkdtemp(prefix="deployflow-bench-rollout-"))
    env = {**os.environ, "DEPLOYFLOW_HOME": str(work / "home"), "NO_COLOR": "1"}
    env["PREFECT_API_URL"] = url
    env.pop("DEPLOYFLOW_ROOT", None)
    stack = work / "deployflow.yaml"
    try:
        (work / "app").mkdir()
        (work / "app" / "server.py").write_text(SERVER)
        names = [f"web{i}" for i in range(1, hosts + 1)]
        lines = "\n".join(
            f'  {n}: {{root: ./hosts/{n}, vars: {{PORT: "{free_port()}"}}}}' for n in names
        )
        stack.write_text(STACK.format(targets=lines))
        cli(env, stack, "server", "start")
        cli(env, stack, "deployments", "apply")
        measure(env, stack, hosts, 1, "warm-up", "(first deploys) ")
        measure(env, stack, hosts, 1, "b1")
        measure(env, stack, hosts, hosts, "bn")
    finally:
        cli(env, stack, "server", "stop", check=False)
        for pid_file in work.glob("hosts/*/.deployflow/run/*.pid"):
            pid = json.loads(pid_file.read_text())["pid"]
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, 9)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
