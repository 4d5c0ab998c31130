"""Encryption at rest on real files: round trip, wrong key, tampering, truncation, chunk moves."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest

from deployflow.backends.sealed import CHUNK, MAGIC, is_sealed, opened, parse_key, seal
from deployflow.errors import BackupError

KEY = os.urandom(32)


def _sealed(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "dump.sql.gz"
    path.write_bytes(data)
    seal(path, KEY)
    return path


@pytest.mark.parametrize("size", [0, 10, CHUNK, 2 * CHUNK + 5])
def test_round_trip(tmp_path: Path, size: int) -> None:
    data = os.urandom(size)
    path = _sealed(tmp_path, data)
    assert is_sealed(path) and path.stat().st_mode & 0o777 == 0o600
    assert data not in path.read_bytes() or size == 0
    with opened(path, KEY) as handle:
        assert handle.read() == data


def test_plain_files_read_as_they_are(tmp_path: Path) -> None:
    path = tmp_path / "plain"
    path.write_bytes(b"hello")
    with opened(path, None) as handle:
        assert handle.read() == b"hello"


def test_wrong_or_missing_key_and_tampering_fail_clearly(tmp_path: Path) -> None:
    data = os.urandom(2 * CHUNK + 100)
    path = _sealed(tmp_path, data)
    with pytest.raises(BackupError, match="is encrypted"):
        opened(path, None)
    with pytest.raises(BackupError, match="does not decrypt"), opened(path, os.urandom(32)) as h:
        h.read()
    raw = bytearray(path.read_bytes())
    raw[len(MAGIC) + 100] ^= 1
    path.write_bytes(bytes(raw))
    with pytest.raises(BackupError, match="does not decrypt"), opened(path, KEY) as h:
        h.read()
    path = _sealed(tmp_path, data)
    whole = path.read_bytes()
    first = len(MAGIC) + 4 + 12 + CHUNK + 16  # magic, then the first chunk's frame
    path.write_bytes(whole[:first])  # cut after a full chunk: the end marker is missing
    with pytest.raises(BackupError, match="cut short"), opened(path, KEY) as h:
        h.read()


def test_parse_key() -> None:
    assert parse_key(base64.b64encode(KEY).decode(), "vars.K") == KEY
    for bad in ("", "not base64!", base64.b64encode(b"short").decode()):
        with pytest.raises(BackupError, match="32 bytes"):
            parse_key(bad, "vars.K")
