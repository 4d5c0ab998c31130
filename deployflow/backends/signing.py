"""Backups are signed: an HMAC-SHA256 over their checksums and metadata, with a key kept in the
deployflow home (0600), outside every backup dir. Whoever can write a backup but not that key
cannot make an edited dump and its checksum line pass as ours. A worker running as another user
than the home's owner signs with a key of its own (`backup-signing.USER.key`, named in the
signature), which root reads to verify and no other user can."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import pwd
import re
import secrets
from pathlib import Path

from deployflow.backends.files import atomic_write
from deployflow.backends.prefect_server import data_dir
from deployflow.errors import BackupError

__all__ = ["SIGNATURE", "check_signature", "make_key", "sign_backup", "signing_key_path"]

SIGNATURE = "signature"
SIGNED = ("checksums.sha256", "metadata.json")


USER = re.compile(r"^[a-z_][a-z0-9_.-]{0,31}$")


def _me() -> str:
    return pwd.getpwuid(os.geteuid()).pw_name


def _home_owner(user: str) -> bool:
    try:
        owner = data_dir().stat().st_uid
    except FileNotFoundError:
        owner = os.geteuid()  # made by this process, for it
    return pwd.getpwnam(user).pw_uid == owner


def signing_key_path(user: str | None = None) -> Path:
    """The key `user` (default: this process's) signs with: the home's owner the shared one."""
    user = user or _me()
    name = "backup-signing.key" if _home_owner(user) else f"backup-signing.{user}.key"
    return data_dir() / name


def make_key(path: Path) -> None:
    """A new random key at `path` (0600); when another process made it first, theirs stays."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    atomic_write(tmp, secrets.token_hex(32) + "\n", 0o600)
    with contextlib.suppress(FileExistsError):
        os.link(tmp, path)
    tmp.unlink()


def _key(path: Path, create: bool) -> bytes | None:
    if not path.exists() and create:
        make_key(path)
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
    user = _me()
    key = _key(signing_key_path(user), create=True)
    assert key is not None
    named = "" if _home_owner(user) else f" {user}"
    atomic_write(folder / SIGNATURE, _mac(key, folder) + named + "\n", 0o600)


def check_signature(folder: Path) -> None:
    """One clear line when the backup is unsigned, signed with another key or edited."""
    try:
        given, *signer = (folder / SIGNATURE).read_text(encoding="ascii").split()
    except FileNotFoundError:
        raise BackupError(
            f"backup {folder.name}: not signed (made before backups were signed, or its "
            "signature was removed); it is not trusted"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BackupError(f"backup {folder.name}: signature unreadable ({exc})") from None
    except ValueError:
        given, signer = "", []
    user = signer[0] if len(signer) == 1 and USER.match(signer[0]) else None
    if signer and user is None:
        raise BackupError(f"backup {folder.name}: its signature names no valid signer")
    try:
        where = signing_key_path(user)
        if user and folder.stat().st_uid != pwd.getpwnam(user).pw_uid:  # only its own backups
            raise BackupError(f"backup {folder.name}: signed by {user}, who does not own it")
    except KeyError:
        raise BackupError(f"backup {folder.name}: signed by {user}, not a user here") from None
    key = _key(where, create=False)
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
