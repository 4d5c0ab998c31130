"""API keys and passwords, pure: a key is `dfk_<id>_<secret>` (32 random bytes), shown once
and stored only as the SHA-256 of its secret, compared in constant time; passwords are hashed
with argon2."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

__all__ = ["NewKey", "check_password", "hash_password", "key_matches", "new_key", "split_key"]

PREFIX = "dfk"


@dataclass(frozen=True)
class NewKey:
    key_id: str  # stored as is: finds the row
    secret_hash: str  # stored: the secret's SHA-256
    plain: str  # shown once to its owner, never stored


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_key() -> NewKey:
    key_id, secret = secrets.token_hex(8), secrets.token_urlsafe(32)
    return NewKey(key_id, _digest(secret), f"{PREFIX}_{key_id}_{secret}")


def split_key(plain: str) -> tuple[str, str] | None:
    """(id, secret) of a key as given, or None when it is not shaped like one."""
    parts = plain.split("_", 2)
    if len(parts) != 3 or parts[0] != PREFIX or len(parts[1]) != 16 or not parts[2]:
        return None
    return parts[1], parts[2]


def key_matches(secret: str, stored_hash: str) -> bool:
    return hmac.compare_digest(_digest(secret), stored_hash)


def hash_password(password: str) -> str:
    from argon2 import PasswordHasher

    return PasswordHasher().hash(password)


def check_password(password: str, stored: str) -> bool:
    from argon2 import PasswordHasher
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return PasswordHasher().verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False
