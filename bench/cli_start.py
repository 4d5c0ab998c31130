"""Benchmark (not a test): how fast the commands people type often start, and that they do not
import Prefect: `deployflow --help`, `deployflow cert verify --domain localhost` (a real
certificate, its chain and expiry checked) and `deployflow config edit` up to its first screen
(the same code run headless: stack loaded, master config parsed, the form mounted, then left),
against a bare `python -c pass` in the same run. Aim: each under 0.5 s, without Prefect.
Alternates A B; prints medians and ratios.

Usage: .venv/bin/python bench/cli_start.py [--runs 10]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.tinystack import write_tiny_stack


def _timed(argv: list[str], env: dict[str, str], cwd: Path) -> float:
    started = time.perf_counter()
    subprocess.run(argv, env=env, cwd=cwd, check=True, capture_output=True)
    return time.perf_counter() - started


def _imports_prefect(argv: list[str], env: dict[str, str], cwd: Path) -> bool:
    done = subprocess.run(
        [argv[0], "-X", "importtime", *argv[1:]], env=env, cwd=cwd, capture_output=True, text=True
    )
    return any(line.rstrip().endswith("| prefect") for line in done.stderr.splitlines())


def editor_first_screen(stack: str) -> None:
    """`config edit` as the command runs it, headless, leaving once the form is up."""
    from deployflow.ops.configedit import open_master, stack_facts
    from deployflow.tui.configeditor import ConfigEditor

    env_file, environment, secrets = stack_facts(Path(stack))
    session = open_master(env_file, Path(stack).parent, environment, secrets)

    async def leave(pilot) -> None:
        await pilot.pause()
        pilot.app.exit(None)

    ConfigEditor(session, lambda _values: "").run(headless=True, auto_pilot=leave)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--editor-first-screen", metavar="STACK")
    args = parser.parse_args()
    if args.editor_first_screen:
        editor_first_screen(args.editor_first_screen)
        return
    with tempfile.TemporaryDirectory(prefix="deployflow-bench-cli-") as tmp:
        work = Path(tmp)
        write_tiny_stack(work, "clistart", '    steps: [["true"]]')
        stack = work / "deployflow.yaml"
        stack.write_text(
            stack.read_text().replace("vars: {PORT:", "vars: {env_file: app.env, PORT:")
        )
        (work / "app.env").write_text(
            "ENVIRONMENT=production\nAPP_IP=127.0.0.1\nBACKEND_PORT=18000\n"
            "DB_PASSWORD=a-long-password\n"
        )
        env = {**os.environ, "DEPLOYFLOW_HOME": str(work / "home"), "NO_COLOR": "1"}
        me = [sys.executable, "-m", "deployflow"]
        subprocess.run(
            [*me, "cert", "generate", "--domains", "localhost"],
            env=env,
            cwd=work,
            check=True,
            capture_output=True,
        )
        commands = {
            "deployflow --help": [*me, "--help"],
            "deployflow cert verify": [*me, "cert", "verify", "--domain", "localhost"],
            "config edit, 1st screen": [
                sys.executable,
                __file__,
                "--editor-first-screen",
                str(stack),
            ],
        }
        base = [sys.executable, "-c", "pass"]
        for name, argv in commands.items():
            ours, bare = [], []
            for _ in range(args.runs):
                ours.append(_timed(argv, env, work))
                bare.append(_timed(base, env, work))
            mine, theirs = statistics.median(ours), statistics.median(bare)
            prefect = _imports_prefect(argv, env, work)
            print(
                f"{name:24} median {mine:.3f} s  (python -c pass {theirs:.3f} s, "
                f"ratio {mine / theirs:.1f}x); imports prefect: {'YES' if prefect else 'no'}; "
                f"aim < 0.5 s: {'met' if mine < 0.5 and not prefect else 'NOT met'}"
            )


if __name__ == "__main__":
    main()
