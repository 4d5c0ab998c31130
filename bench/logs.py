"""Benchmark (not a test): the log viewer.
1. `deployflow logs backend --search P -n 0` over a generated mixed log (Laravel lines with
   stack traces, nginx access lines, Python logging lines) of about --mb MB, against
   `grep -E P` on the same file in the same run, for a rare and a frequent pattern (median of
   --runs, both writing to /dev/null). Aim: <= 1.5x.
2. Follow lag: another process appends a line every 50 ms to a followed file; the time from
   each write until `deployflow logs -f` prints it. Aim: < 100 ms.
3. One health sweep over 200 local endpoints (bench/health_sweep.py). Aim: < 1 s.
Usage: .venv/bin/python bench/logs.py [--mb 1024] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
WORDS = ["order", "payment", "device", "tablet", "relay", "queue", "cache", "session", "token"]


def make_log(path: Path, megabytes: int) -> None:
    """An 8 MB block of mixed lines, written again with new times until the size is reached."""
    rng = random.Random(7)
    block: list[str] = []
    size = 0
    i = 0
    while size < 8 << 20:
        i += 1
        words = " ".join(rng.choices(WORDS, k=6))
        kind = rng.random()
        if kind < 0.5:
            level = rng.choice(["INFO"] * 12 + ["DEBUG"] * 4 + ["WARNING"] * 2 + ["ERROR"])
            line = (
                f"[{{day}} 10:{i // 60 % 60:02d}:{i % 60:02d}] production.{level}: {words} id={i}\n"
            )
            if level == "ERROR":
                line += "[stacktrace]\n#0 /app/Http/Kernel.php(12): handle()\n#1 {{main}}\n"
        elif kind < 0.8:
            status = rng.choice([200] * 8 + [404, 500])
            line = (
                f"10.0.0.{i % 250} - - [{{nginx_day}}:10:{i // 60 % 60:02d}:{i % 60:02d} +0000] "
                f'"GET /api/{rng.choice(WORDS)}/{i} HTTP/1.1" {status} 512 "-" "curl/8"\n'
            )
        else:
            took = rng.randrange(900)
            line = (
                f"{{day}} 10:{i // 60 % 60:02d}:{i % 60:02d},000 INFO app.sql: {words} {took} ms\n"
            )
        block.append(line)
        size += len(line)
    text = "".join(block)
    with open(path, "w") as out:
        day = 0
        while out.tell() < megabytes << 20:
            day += 1
            stamp = f"2026-{1 + day // 28 % 12:02d}-{1 + day % 28:02d}"
            nginx = f"{1 + day % 28:02d}/Jan/2026"
            out.write(
                text.replace("{day}", stamp)
                .replace("{nginx_day}", nginx)
                .replace("{{main}}", "{main}")
            )


def median_time(argv: list[str], env: dict[str, str], runs: int, out: Path) -> float:
    """Median wall time, output to a file (grep stops at the first match when it sees that its
    output is /dev/null)."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        with open(out, "w") as sink:
            code = subprocess.run(argv, env=env, stdout=sink).returncode
        times.append(time.perf_counter() - started)
        if code not in (0, 1):
            raise SystemExit(f"{argv[0]} exited {code}")
    return statistics.median(times)


def follow_lag(cli: list[str], env: dict[str, str], log: Path, count: int = 40) -> list[float]:
    proc = subprocess.Popen(
        [*cli, "-f", "-n", "0"], env=env, stdout=subprocess.PIPE, text=True, bufsize=1
    )
    written: dict[str, float] = {}
    lags: list[float] = []

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            seen = time.perf_counter()
            key = line.rsplit("mark-", 1)[-1].strip()
            if key in written:
                lags.append(seen - written[key])

    threading.Thread(target=read, daemon=True).start()
    time.sleep(3)  # the viewer is up (Python start-up) before the first mark
    with open(log, "a") as handle:
        for n in range(count):
            written[str(n)] = time.perf_counter()
            handle.write(f"[2027-01-01 00:00:{n % 60:02d}] production.INFO: mark-{n}\n")
            handle.flush()
            time.sleep(0.05)
    time.sleep(0.5)
    proc.terminate()
    proc.wait()
    return lags


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=1024)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="deployflow-bench-logs-"))
    try:
        stack_dir = work / "woosoo"
        shutil.copytree(REPO / "examples" / "woosoo", stack_dir)
        stack = stack_dir / "deployflow.yaml"
        stack.write_text(
            stack.read_text().replace(
                "    shared: [storage/]", "    shared: [storage/]\n    logs: [storage/logs/*.log]"
            )
        )
        root = work / "root"
        logs = root / "releases" / "r1" / "backend" / "storage" / "logs"
        logs.mkdir(parents=True)
        (root / "current").symlink_to("releases/r1")
        log = logs / "laravel.log"
        started = time.perf_counter()
        make_log(log, args.mb)
        took = time.perf_counter() - started
        print(f"generated {log.stat().st_size / 2**20:.0f} MB in {took:.0f} s")
        env = {**os.environ, "DEPLOYFLOW_ROOT": str(root), "NO_COLOR": "1"}
        cli = [sys.executable, "-m", "deployflow", "logs", "backend", "--stack", str(stack)]
        subprocess.run(["cat", str(log)], stdout=subprocess.DEVNULL, check=True)  # page cache
        out = work / "out.txt"
        for pattern in (r"id=1234[0-9]\b", r"ERROR.*(payment|token)", r'" 500 [0-9]+ "-" "curl'):
            ours = median_time([*cli, "--search", pattern, "-n", "0"], env, args.runs, out)
            hits = sum(1 for line in out.read_text().splitlines() if line.startswith("backend"))
            grep = median_time(["grep", "-E", pattern, str(log)], env, args.runs, out)
            print(
                f"search {pattern!r} ({hits} lines out): deployflow {ours:.2f} s, "
                f"grep -E {grep:.2f} s: {ours / grep:.2f}x"
            )
        lags = sorted(follow_lag(cli, env, log))
        if lags:
            median, worst = statistics.median(lags) * 1000, lags[-1] * 1000
            print(f"follow lag over {len(lags)} lines: median {median:.0f} ms, max {worst:.0f} ms")
        sweep = [sys.executable, str(REPO / "bench" / "health_sweep.py"), "--endpoints", "200"]
        print(subprocess.run(sweep, check=True, capture_output=True, text=True).stdout.strip())
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
