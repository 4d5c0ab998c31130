"""Schema fingerprints compared, and which backup takes the data back to a release's time."""

from __future__ import annotations

import hashlib
import json
from typing import Any

__all__ = ["backup_for_rollback", "fingerprint", "schema_changes"]


def fingerprint(tables: dict[str, list[str]]) -> dict[str, Any]:
    """A schema fingerprint from each table's definition lines (columns, indexes, as an
    engine's catalog lists them): a hash of the whole, and a short hash per table."""
    digest = hashlib.sha256(json.dumps(tables, sort_keys=True).encode()).hexdigest()
    return {
        "hash": digest,
        "tables": {
            t: hashlib.sha256("\n".join(c).encode()).hexdigest()[:16] for t, c in tables.items()
        },
    }


def schema_changes(target: dict[str, Any], live: dict[str, Any]) -> list[str]:
    """`db.table` names whose columns or indexes differ between two fingerprints
    ({db: {"hash", "tables": {table: hash}}}), sorted."""
    changed = []
    for db in sorted(set(target) | set(live)):
        mine, theirs = target.get(db, {}), live.get(db, {})
        if mine.get("hash") == theirs.get("hash"):
            continue
        a, b = mine.get("tables", {}), theirs.get("tables", {})
        changed += [f"{db}.{t}" for t in sorted(set(a) | set(b)) if a.get(t) != b.get(t)]
    return changed


def backup_for_rollback(
    order: list[str], target: str, current: str | None, backups: dict[str, str | None]
) -> str | None:
    """The dump taken just after `target` stopped being the newest release: the backup of the
    first release deployed after it (up to `current`) that recorded one. `order` is the
    releases that went live, oldest first; `backups` maps a release to its pre-deploy backup."""
    if target not in order:
        return None
    after = order[order.index(target) + 1 :]
    if current in after:
        after = after[: after.index(current) + 1]
    return next((backups[r] for r in after if backups.get(r)), None)
