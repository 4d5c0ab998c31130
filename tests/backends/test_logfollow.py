"""Following real files while another process writes them: appended lines, a stack trace kept
whole, rotation by rename + new file, copytruncate, a file that appears later."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from deployflow.backends.logfollow import FileFollower


def _write(path: Path, text: str) -> None:
    """Appended by another process, as a service would."""
    code = f"open({str(path)!r}, 'a').write({text!r})"
    subprocess.run([sys.executable, "-c", code], check=True)


def _until(follower: FileFollower, want: int) -> list[str]:
    seen: list[str] = []
    for _ in range(500):  # polls, not a time limit: the lines are already written
        seen += [e.text for e in follower.poll()]
        if len(seen) >= want:
            break
        time.sleep(0.01)
    return seen


def test_appended_lines_and_a_trace(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_text("[2026-11-25 10:00:00] production.INFO: before following\n")
    follower = FileFollower(log, "app")
    _write(log, "ERROR:    boom\nTraceback (most recent call last):\n  File 'a.py'\nKeyError: 1\n")
    _write(log, "INFO:     after\n")
    seen = _until(follower, 2)
    assert seen[0].splitlines()[0] == "ERROR:    boom" and seen[0].endswith("KeyError: 1")
    assert seen[1] == "INFO:     after"  # the first line written before was not repeated


def test_rotation_by_rename_and_by_copytruncate(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_text("")
    follower = FileFollower(log, "app")
    _write(log, "INFO:     one\n")
    assert _until(follower, 1) == ["INFO:     one"]
    _write(log, "INFO:     two, last line of the old file\n")
    os.rename(log, tmp_path / "app.log.1")  # logrotate's default: rename, then a new file
    _write(log, "INFO:     three, in the new file\n")
    assert _until(follower, 2) == [
        "INFO:     two, last line of the old file",
        "INFO:     three, in the new file",
    ]
    os.truncate(log, 0)  # copytruncate
    _write(log, "INFO:     four\n")
    assert _until(follower, 1) == ["INFO:     four"]
    follower.close()


def test_a_file_that_appears_later(tmp_path: Path) -> None:
    log = tmp_path / "later.log"
    follower = FileFollower(log, "svc")
    assert follower.poll() == []
    _write(log, "2026-11-25 10:00:00,000 WARNING started late\n")
    seen = _until(follower, 1)
    assert seen == ["2026-11-25 10:00:00,000 WARNING started late"]


def test_copytruncate_that_grew_back_between_polls(tmp_path: Path) -> None:
    """The file is cut and written past the old read position before the next poll: the
    bytes last read are gone from their place, so it is read again from the start."""
    log = tmp_path / "app.log"
    log.write_text("")
    follower = FileFollower(log, "app")
    _write(log, "INFO:     short\n")
    assert _until(follower, 1) == ["INFO:     short"]
    os.truncate(log, 0)
    _write(log, "INFO:     a longer line after the cut\n")
    assert _until(follower, 1) == ["INFO:     a longer line after the cut"]


def test_raw_lines_ungrouped_and_the_last_one_when_the_writer_ended(tmp_path: Path) -> None:
    """`lines()` gives each complete line as written (a trace's lines one by one), holds the
    unfinished one back, and gives it too once told the writer is gone."""
    log = tmp_path / "run.log"
    follower = FileFollower(log, "run", from_end=False)
    assert follower.lines() == []  # not there yet
    _write(log, "one\nTraceback (most recent call last):\n  File 'a.py'\nhalf")
    assert follower.lines() == ["one", "Traceback (most recent call last):", "  File 'a.py'"]
    _write(log, " a line")
    assert follower.lines() == []
    assert follower.lines(final=True) == ["half a line"]
    follower.close()
