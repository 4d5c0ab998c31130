"""Whether the runtime installed here satisfies what an app asks for (`.python-version`,
package.json `engines.node`): a plain comparison of versions, for `init` to warn about."""

from __future__ import annotations

import re

__all__ = ["runtime_mismatch"]


def _numbers(text: str) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", text)[:3])


def runtime_mismatch(kind: str, wanted: str, installed: str) -> str | None:
    """A warning when `installed` does not satisfy `wanted` (None when it does): `>=X` is a
    floor, `^X`/`X.x`/`~X.Y`/`X.Y` pin the leading numbers."""
    want, have = _numbers(wanted), _numbers(installed)
    if not want or not have:
        return None
    spec = wanted.strip()
    if spec.startswith(">="):
        ok = have >= want
    elif spec.startswith(">"):
        ok = have > want
    else:
        pinned = 1 if spec.startswith("^") or ".x" in spec or len(want) == 1 else 2
        ok = have[:pinned] == want[:pinned]
    if ok:
        return None
    return (
        f"{kind}: the app asks for {wanted}, this host has {installed}; it builds and runs with "
        f"{installed} (the nearest installed one): install {kind} {wanted} to match"
    )
