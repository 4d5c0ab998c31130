"""Hide secret values in any text that leaves the process (logs, diffs, reports): by value,
including the encoded forms a value takes on its way (base64, URL-encoding)."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

__all__ = ["MASK", "Redactor", "is_secret_name"]

MASK = "********"
# a var whose name holds one of these words is a secret (`secrets:` in the stack names others)
_SECRET_NAME = re.compile(
    r"KEY|TOKEN|SECRET|PASS|PWD|CREDENTIAL|PRIVATE|DSN|AUTH|SALT|COOKIE|SIGNATURE"
)
_MIN = 3  # shorter values would mask half of every line


def is_secret_name(name: str) -> bool:
    return _SECRET_NAME.search(name.upper()) is not None


def _forms(value: str) -> set[str]:
    """The value and the forms it is written in by configs, URLs and HTTP headers."""
    raw = value.encode()
    forms = {value, quote(value, safe=""), quote_plus(value), quote(value)}
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        coded = encode(raw).decode()
        forms.update({coded, coded.rstrip("=")})
    return {f for f in forms if len(f) >= _MIN}


class Redactor:
    """Replaces every known secret value (and its encoded forms) with a mask; longest first."""

    def __init__(self, secrets: Iterable[str]) -> None:
        found: set[str] = set()
        for secret in secrets:
            if secret and len(secret) >= _MIN:
                found |= _forms(secret)
        self._values = sorted(found, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for value in self._values:
            if value in text:
                text = text.replace(value, MASK)
        return text
