"""The live deploy view in a real pseudo-terminal: stage rows with marks and times, the report
at the end; `--plain` (and any stdout that is not a terminal) keeps the line-by-line log."""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys

from tests.e2e.conftest import Stack


def _in_pty(stack: Stack, *args: str) -> tuple[int, str]:
    """Run deployflow with a pseudo-terminal as stdout and stderr; all it wrote, and its code."""
    master, slave = pty.openpty()
    env = {**stack.env, "TERM": "xterm-256color", "COLUMNS": "120", "LINES": "40"}
    env.pop("NO_COLOR", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "deployflow", *args, "--stack", str(stack.file)],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=slave,
        stderr=slave,
    )
    os.close(slave)
    out = b""
    while True:
        ready, _, _ = select.select([master], [], [], 1.0)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            out += chunk
        elif proc.poll() is not None:
            break
    os.close(master)
    return proc.wait(timeout=60), out.decode(errors="replace")


def test_live_view_in_a_terminal_and_plain_log(stack: Stack) -> None:
    code, out = _in_pty(stack, "run", "full")
    assert code == 0, out[-3000:]
    assert "\x1b[" in out  # a live display: cursor movement and colour
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", out)
    frames = [m.start() for m in re.finditer(r"✓\s+preflight", text)]
    assert frames, text[-3000:]
    final = text[frames[-1] :]  # the last frame of the view
    for stage in ("backup", "build", "assemble", "test", "migrate", "switch", "start", "verify"):
        assert re.search(rf"✓\s+{stage}\s+\d+\.\ds", final), (stage, final[:2000])
    assert "rollback" not in final[: final.find("success: release")]  # not needed, not shown
    # after the view: a short summary (outcome, release, URLs, the report's path), not markdown
    assert re.search(r"success: release \d+, live now \d+", final) and "report: " in final
    assert "|---" not in final and "## " not in final
    assert "Task run" not in text  # Prefect's console lines held back under the view

    stack.set_version("backend", "9.9.9")
    code, out = _in_pty(stack, "run", "full", "--plain")
    assert code == 0, out[-3000:]
    assert "✓ preflight" not in out and "Task run" in out  # the line-by-line log
