"""Benchmark (not a test): a code-only change to a Python web app with its own locked
dependencies (pyproject.toml + uv.lock), deployed by `deployflow run app` from the stack
`deployflow init` wrote, against the same work by hand in the same run: copy the code,
`uv sync --frozen --no-install-project` into the existing venv (nothing to do), restart the
server, wait until it answers. With `--git` the app is a git repository (`source: {git: .}`):
ours fetches, resolves and exports the commit; by hand is `git archive | tar -x` and the same
steps. The dependency layer is why ours does not reinstall. Aim: ours <= 1.2 x by hand + 0.5 s.
Alternates A B A B; prints each pair and the medians. bench/overhead.py runs both modes as
its sections 5 and 6.

Usage: .venv/bin/python bench/code_change.py [--runs 5] [--git] [--warm]
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from example import free_port

APP = {
    "pyproject.toml": (
        '[project]\nname = "hello"\nversion = "1.0"\nrequires-python = ">=3.11"\n'
        'dependencies = ["waitress"]\n'
    ),
    "Procfile": (
        "web: .venv/bin/python -m waitress --host=127.0.0.1 --port=$PORT --call hello:create_app\n"
    ),
    "hello/__init__.py": (
        "VERSION = 'v0'\n\ndef create_app():\n"
        "    def app(environ, start_response):\n"
        "        start_response('200 OK', [('Content-Type', 'text/plain')])\n"
        "        return [VERSION.encode()]\n"
        "    return app\n"
    ),
}
UV = [sys.executable, "-m", "uv"]


def wait_answering(url: str, version: str) -> None:
    ends = time.monotonic() + 60
    while time.monotonic() < ends:
        try:
            if httpx.get(url, timeout=1).text == version:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.02)
    raise SystemExit(f"{url} never answered {version}")


def set_version(src: Path, version: str, git: bool) -> None:
    init = src / "hello" / "__init__.py"
    rest = init.read_text().split("\n", 1)[1]
    init.write_text(f"VERSION = '{version}'\n" + rest)
    if git:
        subprocess.run(["git", "commit", "-qam", version], cwd=src, check=True)


class ByHand:
    """The same deploy done by hand: a venv once, then per change copy (or `git archive`),
    `uv sync` into that venv, restart, wait answering."""

    def __init__(self, work: Path, src: Path, git: bool) -> None:
        self.work, self.src, self.git, self.port = work, src, git, free_port()
        self.proc: subprocess.Popen | None = None
        self.env = {**os.environ, "UV_PROJECT_ENVIRONMENT": str(work / ".venv")}

    def deploy(self, version: str) -> None:
        code = self.work / f"code-{version}"
        code.mkdir(parents=True)
        if self.git:
            archive = subprocess.Popen(
                ["git", "archive", "HEAD"], cwd=self.src, stdout=subprocess.PIPE
            )
            subprocess.run(["tar", "-x", "-C", str(code)], stdin=archive.stdout, check=True)
            archive.wait()
        else:
            subprocess.run(["cp", "-a", f"{self.src}/.", str(code)], check=True)
        sync = [*UV, "sync", "--frozen", "--no-install-project", "--quiet"]
        subprocess.run(sync, cwd=code, env=self.env, check=True)
        if self.proc is not None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait()
        argv = [str(self.work / ".venv/bin/python"), "-m", "waitress", f"--port={self.port}"]
        argv += ["--host=127.0.0.1", "--call", "hello:create_app"]
        self.proc = subprocess.Popen(
            argv, cwd=code, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        wait_answering(f"http://127.0.0.1:{self.port}/", version)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()


def _write_app(src: Path, git: bool) -> None:
    for rel, text in APP.items():
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        (src / rel).write_text(text)
    subprocess.run([*UV, "lock", "--quiet"], cwd=src, check=True)
    if git:
        subprocess.run(["git", "init", "-q", "-b", "main"], cwd=src, check=True)
        (src / ".git" / "info" / "exclude").write_text("deployflow.yaml\n.venv/\n")
        subprocess.run(["git", "add", "-A"], cwd=src, check=True)
        subprocess.run(["git", "commit", "-qm", "v0"], cwd=src, check=True)


def alternate(runs: int, src: Path, git: bool, ours, port: str | int, hand, into) -> None:
    """`runs` code-only changes, each deployed by `ours()` (until the app answers its new
    version on `port`) then by `hand.deploy`; the seconds go to `into` (ours, by hand)."""
    for run in range(1, runs + 1):
        version = f"v{run}"
        set_version(src, version, git)
        started = time.perf_counter()
        ours()
        wait_answering(f"http://127.0.0.1:{port}/", version)
        into[0].append(time.perf_counter() - started)
        started = time.perf_counter()
        hand.deploy(version)
        into[1].append(time.perf_counter() - started)
        print(f"  run {run}: deployflow {into[0][-1]:5.2f} s  by hand {into[1][-1]:5.2f} s")


def measure(runs: int, git: bool = False, warm: bool = False) -> tuple[list[float], list[float]]:
    """(ours, by hand) seconds per code-only change, alternating."""
    with tempfile.TemporaryDirectory(prefix="deployflow-bench-code-") as tmp:
        work = Path(tmp)
        src = work / "hello-app"
        _write_app(src, git)
        env = {
            **os.environ,
            "DEPLOYFLOW_ROOT": str(work / "root"),
            "DEPLOYFLOW_HOME": str(work / "home"),
            "GIT_AUTHOR_NAME": "bench",
            "GIT_AUTHOR_EMAIL": "bench@example.com",
        }
        env.pop("PREFECT_API_URL", None)
        if os.geteuid() == 0:  # root's worker runs as a named user; root stands for the user's own
            env["DEPLOYFLOW_WORKER_USER"] = "root"
        me = [sys.executable, "-m", "deployflow"]

        def cli(*argv: str) -> None:
            subprocess.run([*me, *argv], cwd=src, env=env, check=True, capture_output=True)

        cli("init")
        stack = src / "deployflow.yaml"
        if git:
            stack.write_text(stack.read_text().replace("source: .", "source: {git: ., ref: main}"))
        cli("run", "full")
        if warm:  # the default path after the first run: a local server, a warm worker
            cli("server", "start")
        port = next(
            line.split("'")[1] for line in stack.read_text().splitlines() if "WEB_PORT:" in line
        )
        hand = ByHand(work / "hand", src, git)
        ours_times: list[float] = []
        hand_times: list[float] = []
        try:
            hand.deploy("v0")
            ours = lambda: cli("run", "app", "web")  # noqa: E731
            alternate(runs, src, git, ours, port, hand, (ours_times, hand_times))
        finally:
            hand.stop()
            subprocess.run([*me, "services", "stop", "all"], cwd=src, env=env, capture_output=True)
            subprocess.run([*me, "server", "stop"], cwd=src, env=env, capture_output=True)
    return ours_times, hand_times


def summary(ours_times: list[float], hand_times: list[float], allowance: float = 0.5) -> None:
    """The medians against the aim: ours <= 1.2 x by hand + `allowance` seconds."""
    ours, by_hand = statistics.median(ours_times), statistics.median(hand_times)
    aim = 1.2 * by_hand + allowance
    print(
        f"  median: deployflow {ours:.2f} s, by hand {by_hand:.2f} s, "
        f"ratio {ours / by_hand:.2f}; "
        f"aim {aim:.2f} s (1.2 x + {allowance:g} s): {'met' if ours <= aim else 'NOT met'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--git", action="store_true", help="The app is a git repository.")
    parser.add_argument(
        "--warm", action="store_true", help="Start the local server and warm worker first."
    )
    args = parser.parse_args()
    summary(*measure(args.runs, args.git, args.warm))


if __name__ == "__main__":
    main()
