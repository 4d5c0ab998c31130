"""Backup signatures: the home owner's key, a named signer's own key, and what is refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from deployflow.backends.signing import check_signature, sign_backup, signing_key_path
from deployflow.errors import BackupError


@pytest.fixture
def backup(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.setenv("DEPLOYFLOW_HOME", str(tmp_path / "home"))
    folder = tmp_path / "backups" / "20261129000000"
    folder.mkdir(parents=True)
    (folder / "checksums.sha256").write_text("abc  files.tar.zst\n")
    (folder / "metadata.json").write_text(json.dumps({"id": folder.name}))
    return folder


def test_signed_by_the_home_owner_with_the_shared_key(backup: Path) -> None:
    sign_backup(backup)
    assert len((backup / "signature").read_text().split()) == 1  # no signer named
    assert signing_key_path().name == "backup-signing.key"
    assert signing_key_path().stat().st_mode & 0o777 == 0o600
    check_signature(backup)


def test_an_edit_or_an_unknown_signer_is_refused(backup: Path) -> None:
    sign_backup(backup)
    mac = (backup / "signature").read_text().split()[0]
    (backup / "metadata.json").write_text("{}")
    with pytest.raises(BackupError, match="does not match"):
        check_signature(backup)
    (backup / "signature").write_text(f"{mac} no-such-user\n")
    with pytest.raises(BackupError, match="not a user here"):
        check_signature(backup)
    (backup / "signature").write_text(f"{mac} ../../etc/passwd\n")
    with pytest.raises(BackupError, match="names no valid signer"):
        check_signature(backup)


def test_a_named_signer_signs_only_backups_it_owns(backup: Path) -> None:
    sign_backup(backup)
    mac = (backup / "signature").read_text().split()[0]
    (backup / "signature").write_text(f"{mac} nobody\n")  # the folder is ours, not nobody's
    with pytest.raises(BackupError, match="who does not own it"):
        check_signature(backup)
