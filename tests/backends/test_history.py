"""A root's release history read from a byte offset: what an operation started there made."""

from __future__ import annotations

import json
from pathlib import Path

from deployflow.backends.history import created_after, history_offset


def _append(path: Path, release: str, *statuses: str) -> None:
    with path.open("a") as handle:
        for status in statuses:
            handle.write(json.dumps({"release": release, "status": status, "time": "t"}) + "\n")


def test_the_releases_created_after_an_offset(tmp_path: Path) -> None:
    history = tmp_path / "releases.jsonl"
    assert history_offset(history) == 0 and created_after(history, 0) == []  # none yet
    _append(history, "1", "created", "building", "live")
    mark = history_offset(history)
    assert created_after(history, mark) == []
    _append(history, "2", "created", "building", "failed")
    _append(history, "3", "created")
    assert created_after(history, mark) == ["2", "3"]
    assert created_after(history, 0) == ["1", "2", "3"]
    with history.open("a") as handle:
        handle.write('{"release": "4", "stat')  # torn by a crash mid-append: ignored
    assert created_after(history, mark) == ["2", "3"]
