"""Benchmark (not a test): a container deploy of a small Python web app (pyproject.toml + uv.lock,
the stack and Dockerfile `deployflow init --docker` wrote) through plain `deployflow run full`,
against the same by hand in the same run: `docker build` of the same Dockerfile and context,
`docker rm -f` + `docker run` (127.0.0.1 port, the same limits), and a wait until it answers.
Each round is a code-only change, so both builds reuse the cached dependency layer; the first
deploy (base image, apt, dependencies) is timed once for each. Aim: ours <= 1.2 x by hand + 1 s.
Alternates A B A B; prints each pair and the medians. bench/overhead.py runs it as section 7.

Usage: .venv/bin/python bench/containers.py [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from code_change import _write_app, alternate, summary, wait_answering
from example import free_port

HOST_CAS = Path("/usr/local/share/ca-certificates")  # what deployflow puts in its builds too


class ByHand:
    """docker build + docker run + wait, on the same engine, image and limits."""

    def __init__(self, work: Path, src: Path, engine: str) -> None:
        self.work, self.src, self.port = work, src, free_port()
        self.docker = ["docker", "--host", engine]

    def deploy(self, version: str) -> None:
        context = self.work / f"context-{version}"
        shutil.copytree(self.src, context, ignore=shutil.ignore_patterns("deployflow.yaml"))
        cas = context / ".deployflow-ca"
        cas.mkdir(exist_ok=True)
        for ca in HOST_CAS.glob("*.crt"):
            shutil.copy(ca, cas / ca.name)
        tag = f"byhand/hello:{version}"
        quiet = {"check": True, "capture_output": True}
        subprocess.run([*self.docker, "build", "-q", "-t", tag, str(context)], **quiet)
        subprocess.run([*self.docker, "rm", "-f", "byhand-hello"], capture_output=True)
        run = [*self.docker, "run", "-d", "--name", "byhand-hello", "-m", "512m", "--cpus", "0.5"]
        run += ["-p", f"127.0.0.1:{self.port}:{self.port}", "-e", f"PORT={self.port}", tag]
        subprocess.run(run, **quiet)
        wait_answering(f"http://127.0.0.1:{self.port}/", version)

    def stop(self) -> None:
        subprocess.run([*self.docker, "rm", "-f", "byhand-hello"], capture_output=True)


def measure(runs: int) -> tuple[list[float], list[float]]:
    """(ours, by hand) seconds per code-only container deploy, alternating."""
    with tempfile.TemporaryDirectory(prefix="deployflow-bench-box-") as tmp:
        work = Path(tmp)
        src = work / "hello-app"
        _write_app(src, git=False)
        env = {**os.environ, "DEPLOYFLOW_ROOT": str(work / "root")}
        env["DEPLOYFLOW_HOME"] = str(work / "home")
        env.pop("PREFECT_API_URL", None)
        if os.geteuid() == 0:  # root's worker runs as a named user; root stands for the user's own
            env["DEPLOYFLOW_WORKER_USER"] = "root"
        me = [sys.executable, "-m", "deployflow"]

        def cli(*argv: str) -> str:
            done = subprocess.run([*me, *argv], cwd=src, env=env, capture_output=True, text=True)
            if done.returncode:
                raise SystemExit(f"deployflow {' '.join(argv)}: {done.stderr.strip()[-500:]}")
            return done.stdout

        cli("init", "--docker")
        stack = src / "deployflow.yaml"
        port = free_port()
        stack.write_text(stack.read_text().replace("WEB_PORT: '8000'", f"WEB_PORT: '{port}'"))
        cli("docker", "start")
        engine = json.loads(cli("docker", "status", "--json"))["url"]
        hand = ByHand(work / "hand", src, engine)
        ours_times: list[float] = []
        hand_times: list[float] = []
        try:
            started = time.perf_counter()
            cli("run", "full")  # the local server, the warm worker, the base image, apt, deps
            print(f"  first deploy: deployflow {time.perf_counter() - started:5.1f} s", end="")
            started = time.perf_counter()
            hand.deploy("v0")
            print(f"  by hand {time.perf_counter() - started:5.1f} s (base image made already)")
            ours = lambda: cli("run", "full")  # noqa: E731
            alternate(runs, src, False, ours, port, hand, (ours_times, hand_times))
        finally:
            hand.stop()
            for argv in (["services", "stop", "all"], ["server", "stop"], ["docker", "stop"]):
                subprocess.run([*me, *argv], cwd=src, env=env, capture_output=True)
    return ours_times, hand_times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    summary(*measure(args.runs), allowance=1.0)


if __name__ == "__main__":
    main()
