"""Backups are signed: an HMAC-SHA256 over their checksums and metadata, with a key kept in the
deployflow home (0600), outside every backup dir. Whoever can write a backup but not that key
cannot make an edited dump and its checksum line pass as ours."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
from pathlib import Path

from deployflow.backends.files import atomic_write
from deployflow.backends.prefect_server import data_dir
from deployflow.errors import BackupError

__all__ = ["SIGNATURE", "check_signature", "sign_backup", "signing_key_path"]

SIGNATURE = "signature"
SIGNED = ("checksums.sha256", "metadata.json")


def signing_key_path() -> Path:
    return data_dir() / "backup-signing.key"


def _key(create: bool) -> bytes | None:
    path = signing_key_path()
    if not path.exists() and create:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        atomic_write(tmp, secrets.token_hex(32) + "\n", 0o600)
        with contextlib.suppress(FileExistsError):  # another process made it first: theirs
            os.link(tmp, path)
        tmp.unlink()
    try:
        return bytes.fromhex(path.read_text(encoding="ascii").strip())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise BackupError(f"the backup signing key {path} is unreadable ({exc})") from None


def _mac(key: bytes, folder: Path) -> str:
    mac = hmac.new(key, digestmod=hashlib.sha256)
    for name in SIGNED:
        data = (folder / name).read_bytes()
        mac.update(f"{name}:{len(data)}:".encode() + data)
    return mac.hexdigest()


def sign_backup(folder: Path) -> None:
    """Write `signature` beside the checksums and metadata (the key is made on first use)."""
    key = _key(create=True)
    assert key is not None
    atomic_write(folder / SIGNATURE, _mac(key, folder) + "\n", 0o600)


def check_signature(folder: Path) -> None:
    """One clear line when the backup is unsigned, signed with another key or edited."""
    key = _key(create=False)
    where = signing_key_path()
    try:
        given = (folder / SIGNATURE).read_text(encoding="ascii").strip()
    except FileNotFoundError:
        raise BackupError(
            f"backup {folder.name}: not signed (made before backups were signed, or its "
            "signature was removed); it is not trusted"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BackupError(f"backup {folder.name}: signature unreadable ({exc})") from None
    if key is None:
        raise BackupError(
            f"backup {folder.name}: the signing key {where} is missing; backups made on another "
            "host need that host's key copied there (0600)"
        )
    try:
        expected = _mac(key, folder)
    except OSError as exc:
        raise BackupError(f"backup {folder.name}: cannot read what it signs ({exc})") from None
    if not hmac.compare_digest(given, expected):
        raise BackupError(
            f"backup {folder.name}: its signature does not match (checksums or metadata were "
            f"edited, or it was signed with another key than {where}); it is not trusted"
        )
