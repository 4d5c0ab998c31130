"""Outcomes of flow runs that ended while the Prefect API was down: kept under the deployflow
home (one small file per run), handed to the API once it answers again (`marks.py`)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from deployflow.backends.files import atomic_write
from deployflow.backends.prefect_server import data_dir

__all__ = ["drop_mark", "pending_marks", "save_mark"]

RUN_ID = re.compile(r"^[0-9a-f-]{36}$")


def _folder() -> Path:
    return data_dir() / "marks"


def save_mark(run_id: str, state: str, message: str) -> None:
    """Remember that run `run_id` ended in `state` (COMPLETED or FAILED), with `message`."""
    if not RUN_ID.match(run_id):
        return
    body = json.dumps({"run": run_id, "state": state, "message": message[:2000]})
    atomic_write(_folder() / f"{run_id}.json", body, 0o600)


def pending_marks() -> list[dict[str, Any]]:
    folder = _folder()
    marks = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            mark = json.loads(path.read_text())
        except (OSError, ValueError):
            path.unlink(missing_ok=True)  # torn by a crash: nothing to tell
            continue
        if isinstance(mark, dict) and RUN_ID.match(str(mark.get("run", ""))):
            marks.append(mark)
    return marks


def drop_mark(run_id: str) -> None:
    if RUN_ID.match(run_id):
        (_folder() / f"{run_id}.json").unlink(missing_ok=True)
