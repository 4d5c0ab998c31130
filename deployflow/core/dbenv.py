"""An app's environment pointed at another database (the test stage's throwaway one): values
naming the live database, as a name, a file or the end of a URL's path, name the other one."""

from __future__ import annotations

__all__ = ["point_env"]


def _pointed(value: str, live: str, other: str) -> str | None:
    if value == live:
        return other
    base, mark, query = value.partition("?")
    if "://" in base and base.endswith(f"/{live}"):
        return base[: -len(live)] + other + mark + query
    return None


def point_env(env: dict[str, str], live: str, other: str) -> tuple[dict[str, str], list[str]]:
    """(`env` with every value naming `live` naming `other`, the keys changed)."""
    out, changed = dict(env), []
    for key, value in env.items():
        new = _pointed(value, live, other)
        if new is not None:
            out[key] = new
            changed.append(key)
    return out, changed
