"""Reading real log files: lines streamed and cut, invalid UTF-8 and binary garbage survived,
the last N entries from the end, bisection by time, and search (one process and split)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from deployflow.backends import logread

T0 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def _laravel(i: int, level: str = "INFO", text: str = "") -> str:
    stamp = (T0 + timedelta(seconds=i)).strftime("%Y-%m-%dT%H:%M:%S+00:00")
    return f"[{stamp}] production.{level}: event {i} {text}\n"


@pytest.fixture
def log(tmp_path: Path) -> Path:
    path = tmp_path / "laravel.log"
    with open(path, "w") as handle:
        for i in range(5000):
            handle.write(_laravel(i, "ERROR" if i % 1000 == 7 else "INFO"))
            if i % 1000 == 7:
                handle.write("[stacktrace]\n#0 /app/Kernel.php(12): handle()\n#1 {main}\n")
    return path


def test_entries_keep_traces_and_last_entries(log: Path) -> None:
    every = list(logread.entries(log, "backend"))
    assert len(every) == 5000
    errors = [e for e in every if e.level == "error"]
    assert [len(e.lines) for e in errors] == [4] * 5
    last = logread.last_entries(log, "backend", 3)
    assert [e.lines[0].split()[-1] for e in last] == ["4997", "4998", "4999"]
    assert logread.last_entries(log, "backend", 0) == []


def test_offset_since_bisects(log: Path) -> None:
    offset = logread.offset_since(log, T0 + timedelta(seconds=4000))
    first = next(logread.entries(log, "backend", offset))
    assert first.time is not None and first.time <= T0 + timedelta(seconds=4000)
    assert offset > 0  # most of the file skipped
    assert logread.offset_since(log, T0 - timedelta(days=1)) == 0


@pytest.mark.parametrize("split", [False, True])
def test_search_returns_whole_entries(log: Path, split: bool, monkeypatch) -> None:
    if split:
        monkeypatch.setattr(logread, "PARALLEL_FROM", 1)
    found = list(logread.search(log, re.compile(r"Kernel\.php"), "backend"))
    assert len(found) == 5 and all(e.level == "error" and len(e.lines) == 4 for e in found)
    assert [e.lines[0].split()[3] for e in found] == ["7", "1007", "2007", "3007", "4007"]
    hits = list(logread.search(log, re.compile(r"event 4\d99 "), "backend"))
    assert [e.lines[0].split()[-1] for e in hits] == [
        "4099",
        "4199",
        "4299",
        "4399",
        "4499",
        "4599",
        "4699",
        "4799",
        "4899",
        "4999",
    ]
    found = list(logread.search(log, re.compile("EVENT 12 ", re.I), "backend"))
    assert [e.level for e in found] == ["info"]


def test_garbage_invalid_utf8_and_a_10_mb_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.log"
    path.write_bytes(
        _laravel(1).encode()
        + bytes(range(256)) * 40
        + b"\n\xff\xfe invalid \xc3\x28 utf-8\n"
        + b"x" * (10 << 20)
        + b"\n"
        + _laravel(2, "ERROR").encode()
    )
    every = list(logread.entries(path, "x"))
    text = "\n".join(e.text for e in every)
    assert "invalid" in text and "\ufffd" in text
    cut = next(line for e in every for line in e.lines if line.startswith("xxx"))
    assert len(cut) < logread.MAX_LINE + 40 and cut.endswith(
        f"[{(10 << 20) - logread.MAX_LINE} more bytes]"
    )
    assert every[-1].level == "error"
    found = list(logread.search(path, re.compile("x{100}"), "x"))
    assert len(found) == 1 and found[0].lines[-1].endswith("more bytes]")
