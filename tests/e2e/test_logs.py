"""`deployflow logs` as a user runs it, on real files under a deploy root: services' output files
and the files apps and services declare (Laravel, nginx, uvicorn, MariaDB lines) merged by time,
filtered, exported, printed as JSON; followed while another process appends and rotates; bad
input refused with one line and exit 2, garbage and 10 MB lines survived."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
from pathlib import Path

import pytest

LARAVEL = """\
[2026-11-25 10:00:02] production.INFO: order 17 placed
[2026-11-25 10:00:05] production.ERROR: Division by zero {"exception":"[object] (DivisionByZero)
[stacktrace]
#0 /app/app/Http/Controllers/OrderController.php(42): total()
#1 {main}
"}
[2026-11-25 10:00:09] production.WARNING: payment retry 2
"""
UVICORN = """\
--- deployflow: starting backend-api at 2026-11-25T10:00:00+00:00
2026-11-25 10:00:01,000 INFO uvicorn.error: Started server process [77]
2026-11-25 10:00:06,500 ERROR app: Exception in ASGI application
Traceback (most recent call last):
  File "/app/app.py", line 10, in handler
ZeroDivisionError: division by zero
"""
MARIADB = "2026-11-25 10:00:00 0 [Note] mariadbd: ready for connections.\n"
ACCESS = (
    '10.0.0.7 - - [25/Nov/2026:10:00:03 +0000] "GET /api/orders HTTP/1.1" 200 512 "-" "curl"\n'
    '10.0.0.7 - - [25/Nov/2026:10:00:07 +0000] "GET /api/pay HTTP/1.1" 502 157 "-" "curl"\n'
)


class Cli:
    def __init__(self, stack: Path, root: Path) -> None:
        self.stack, self.root = stack, root
        self.env = {**os.environ, "DEPLOYFLOW_ROOT": str(root), "NO_COLOR": "1"}

    def argv(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "deployflow", "logs", *args, "--stack", str(self.stack)]

    def __call__(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            self.argv(*args), env=self.env, capture_output=True, text=True, timeout=120
        )

    def json(self, *args: str) -> list[dict]:
        proc = self("--json", *args)
        assert proc.returncode == 0, proc.stderr
        return [json.loads(line) for line in proc.stdout.splitlines()]


@pytest.fixture
def cli(example_stack: Path, tmp_path: Path) -> Cli:
    root = tmp_path / "root"
    text = example_stack.read_text()
    text = text.replace(
        "    shared: [storage/]", "    shared: [storage/]\n    logs: [storage/logs/*.log]"
    )
    text = text.replace(
        '    port: "{{ PWA_PORT }}"\n',
        '    port: "{{ PWA_PORT }}"\n    logs: ["{{ paths.shared }}/nginx/*.log"]\n',
    )
    example_stack.write_text(text)
    app_logs = root / "releases" / "r1" / "backend" / "storage" / "logs"
    app_logs.mkdir(parents=True)
    (root / "current").symlink_to("releases/r1")
    (app_logs / "laravel.log").write_text(LARAVEL)
    (root / "logs").mkdir()
    (root / "logs" / "backend-api.log").write_text(UVICORN)
    (root / "logs" / "db.log").write_text(MARIADB)
    (root / "shared" / "nginx").mkdir(parents=True)
    (root / "shared" / "nginx" / "access.log").write_text(ACCESS)
    return Cli(example_stack, root)


def test_merged_by_time_with_traces_filters_and_export(cli: Cli, tmp_path: Path) -> None:
    every = cli.json("all")
    assert [e["time"][11:19] for e in every] == sorted(e["time"][11:19] for e in every)
    assert {e["source"] for e in every} == {"backend", "backend-api", "db", "pwa-web"}
    assert len(every) == 9
    trace = next(e for e in every if e["source"] == "backend" and e["level"] == "error")
    assert trace["lines"][-2] == "#1 {main}" and len(trace["lines"]) == 5
    py = next(e for e in every if e["source"] == "backend-api" and e["level"] == "error")
    assert py["lines"][-1] == "ZeroDivisionError: division by zero"
    assert next(e for e in every if "/api/pay" in e["message"])["level"] == "error"  # a 502

    errors = cli.json("all", "--level", "error")
    assert [e["source"] for e in errors] == ["backend", "backend-api", "pwa-web"]
    found = cli.json("backend", "--search", r"OrderController\.php\(\d+\)")
    assert [e["message"][:40] for e in found] == [trace["message"][:40]]
    window = cli.json("all", "--since", "2026-11-25T10:00:04Z", "--until", "2026-11-25T10:00:07Z")
    assert [e["time"][17:19] for e in window] == ["05", "06", "07"]
    assert [e["source"] for e in cli.json("db")] == ["db"]
    assert len(cli.json("all", "-n", "2")) == 2

    out = tmp_path / "export" / "errors.txt"
    proc = cli("all", "--level", "warning", "--export", str(out))
    assert proc.returncode == 0 and "4 entries written" in proc.stderr
    text = out.read_text()
    assert "backend     | #1 {main}" in text and "pwa-web     | 10.0.0.7" in text
    plain = cli("backend")
    assert plain.returncode == 0 and plain.stdout.count("\n") == 13  # the app and its service


def test_follow_sees_appends_and_rotation(cli: Cli) -> None:
    log = cli.root / "releases" / "r1" / "backend" / "storage" / "logs" / "laravel.log"
    proc = subprocess.Popen(
        cli.argv("backend", "-f", "--json", "-n", "0"),
        env=cli.env,
        stdout=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(x) for x in proc.stdout], daemon=True).start()  # type: ignore[union-attr]

    def append(text: str) -> None:  # another process, as the app would
        code = f"open({str(log)!r}, 'a').write({text!r})"
        subprocess.run([sys.executable, "-c", code], check=True)

    def seen() -> str:
        return json.loads(lines.get(timeout=30))["message"]

    try:
        for attempt in range(100):  # the follower starts at the end: write until it reports
            append(f"[2026-11-25 10:01:00] production.INFO: ping {attempt}\n")
            try:
                first = json.loads(lines.get(timeout=0.3))["message"]
                break
            except queue.Empty:
                continue
        assert first.startswith("[2026-11-25 10:01:00] production.INFO: ping")
        append("[2026-11-25 10:01:01] production.ERROR: appended\n")
        assert seen().endswith("appended")
        os.rename(log, log.with_suffix(".log.1"))
        append("[2026-11-25 10:01:02] production.INFO: in the new file\n")
        assert seen().endswith("in the new file")
        os.truncate(log, 0)
        append("[2026-11-25 10:01:03] production.INFO: after copytruncate\n")
        assert seen().endswith("after copytruncate")
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["nosuch"], "unknown service or app 'nosuch'"),
        (["all", "--search", "(unclosed"], "is not a valid regex"),
        (["all", "--since", "yesterday"], "--since 'yesterday'"),
        (["all", "--until", "2026-13-45"], "--until"),
        (["all", "--level", "loud"], "--level 'loud'"),
        (["all", "-f", "--export", "x.txt"], "leave out --follow"),
    ],
)
def test_bad_input_is_one_line_exit_2(cli: Cli, args: list[str], says: str) -> None:
    proc = cli(*args)
    assert proc.returncode == 2, proc.stderr
    assert says in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert "Traceback" not in proc.stderr


def test_unreadable_garbage_and_huge_lines(cli: Cli) -> None:
    logs = cli.root / "releases" / "r1" / "backend" / "storage" / "logs"
    (logs / "weird.log").mkdir()  # matches the glob, cannot be read as a file
    proc = cli("backend")
    assert proc.returncode == 2 and "cannot read" in proc.stderr and "weird.log" in proc.stderr
    (logs / "weird.log").rmdir()
    (logs / "laravel.log").write_bytes(
        LARAVEL.encode()
        + bytes(range(256)) * 64
        + b"\n\xff\xfe\xc3\x28 not utf-8\n"
        + b"[2026-11-25 10:00:10] production.ERROR: "
        + b"y" * (10 << 20)
        + b"\n"
    )
    proc = cli("backend", "-n", "0")
    assert proc.returncode == 0, proc.stderr
    assert "\x1b" not in proc.stdout and "\x00" not in proc.stdout  # control bytes neutralised
    assert "more bytes]" in proc.stdout and "not utf-8" in proc.stdout
    assert len(proc.stdout) < 1 << 20  # the 10 MB line shown cut
    hits = cli.json("backend", "--search", "y{1000}")
    assert len(hits) == 1 and hits[0]["level"] == "error"
