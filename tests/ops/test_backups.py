"""Honest backups (issue 22): a stack whose backup names `database` but declares none is
warned in preflight and in the backup itself (which then does not claim a database), and a
restore test of a backup without a dump says there was nothing to test."""

from __future__ import annotations

from pathlib import Path

from deployflow.loading import load_stack
from deployflow.ops.backup_verify import verify_backup
from deployflow.ops.backups import new_backup
from deployflow.stages.backup import BackupOptions
from deployflow.stages.preflight import run_preflight
from tests.tinystack import write_tiny_stack


def _ctx(tmp_path: Path):
    write_tiny_stack(tmp_path, "honest", '    steps: [["true"]]')
    text = (tmp_path / "deployflow.yaml").read_text()
    text += "backup: {include: [configs, release, database]}\n"
    (tmp_path / "deployflow.yaml").write_text(text)
    return load_stack(tmp_path / "deployflow.yaml", tmp_path / "root")


def test_a_database_backup_without_a_database_is_a_warning(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("DEPLOYFLOW_HOME", str(tmp_path / "home"))
    ctx = _ctx(tmp_path)
    checks = {c.name: c for c in run_preflight(ctx, list(ctx.stack.apps), lambda _m: None)}
    assert not checks["backups"].ok and not checks["backups"].critical
    assert "declares none" in checks["backups"].detail

    lines: list[str] = []
    row = new_backup(ctx, lines.append, BackupOptions(kind="manual"))
    assert "database" not in row["include"] and row["databases"] == []
    assert row["warnings"] == [
        "backup.include names database, but the stack declares none: no dump"
    ]
    tested = verify_backup(ctx, row["id"], True, lines.append)
    assert tested["ok"] and tested["restore_tested"] == []
    assert any("nothing to restore-test" in line for line in lines)
