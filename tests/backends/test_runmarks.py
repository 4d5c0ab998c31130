"""Outcomes kept for an API that was down: saved 0600, listed, dropped; torn files forgotten."""

from __future__ import annotations

from pathlib import Path

from deployflow.backends.runmarks import drop_mark, pending_marks, save_mark

RUN = "0b6c2c1e-1f0e-4a53-9d1c-5f1d8a0c1e22"


def test_saved_listed_and_dropped(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("DEPLOYFLOW_HOME", str(tmp_path))
    save_mark(RUN, "FAILED", "verify failed")
    save_mark("../../etc/passwd", "COMPLETED", "")  # not a run id: nothing written
    assert pending_marks() == [{"run": RUN, "state": "FAILED", "message": "verify failed"}]
    assert (tmp_path / "marks" / f"{RUN}.json").stat().st_mode & 0o777 == 0o600
    drop_mark(RUN)
    assert pending_marks() == []


def test_a_torn_mark_is_forgotten(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("DEPLOYFLOW_HOME", str(tmp_path))
    (tmp_path / "marks").mkdir()
    (tmp_path / "marks" / f"{RUN}.json").write_text('{"run": ')
    assert pending_marks() == []
    assert not list((tmp_path / "marks").iterdir())
