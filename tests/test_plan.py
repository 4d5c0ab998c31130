"""`deployflow plan` and `run full --dry-run` resolve every command and write nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def test_plan_resolves_and_writes_nothing(example_stack: Path, tmp_path: Path) -> None:
    root = tmp_path / "fresh-root"
    env = {**os.environ, "DEPLOYFLOW_ROOT": str(root), "WOOSOO_DB_PASSWORD": "pw-for-plan"}
    argv = [sys.executable, "-m", "deployflow"]
    text = subprocess.run(
        [*argv, "run", "full", "--dry-run", "--stack", str(example_stack)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "dry run: nothing was changed" in text
    assert "mariadbd --no-defaults" not in text  # infrastructure is ensured, not restarted
    assert "-m uvicorn app:app --host 127.0.0.1" in text and "{{" not in text
    assert "+DB_PASSWORD=********" in text and "pw-for-plan" not in text
    stages = json.loads(
        subprocess.run(
            [*argv, "plan", "--json", "--apps", "backend", "--stack", str(example_stack)],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    assert [s["name"] for s in stages] == [
        "preflight",
        "backup",
        "build",
        "assemble",
        "test",
        "release",
        "stop",
        "migrate",
        "switch",
        "start",
        "verify",
        "after-start",
        "drain",
    ]
    assert stages[-1]["lines"] == ["skipped (no blue-green slot to drain)"]
    assert any(line.startswith("backend: copy apps/backend") for line in stages[2]["lines"])
    assert not any(line.startswith("pwa") for line in stages[2]["lines"])
    assert not root.exists()
