"""Release history: an append-only JSON-lines event log folded into one record per release."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "BAD",
    "GOOD",
    "IN_PROGRESS",
    "ReleaseRecord",
    "Status",
    "event",
    "fold",
    "parse_history",
    "previous_good",
    "releases_to_prune",
]

# a release's lifecycle: created -> building -> deploying -> live, or an error state
# (failed, cancelled; interrupted when its run died); rolled_back once another replaced it
Status = Literal[
    "created", "building", "deploying", "live", "failed", "cancelled", "rolled_back", "interrupted"
]
GOOD = frozenset({"live", "rolled_back"})
BAD = frozenset({"failed", "cancelled", "interrupted"})  # never chosen by rollback
IN_PROGRESS = frozenset({"created", "building", "deploying"})  # its deploy is running (or died)


@dataclass
class ReleaseRecord:
    id: str
    status: str
    started: str
    updated: str
    note: str = ""
    version: dict[str, str] = field(default_factory=dict)
    apps: list[str] = field(default_factory=list)  # the apps its deploy built
    commits: dict[str, str] = field(default_factory=dict)  # git apps: the SHA it built
    states: list[tuple[str, str]] = field(default_factory=list)  # (status, time), in order

    @property
    def bad(self) -> bool:
        return self.status in BAD


def event(release: str, status: Status, time: str, note: str = "", **extra: object) -> str:
    """One history line."""
    return json.dumps({"release": release, "status": status, "time": time, "note": note, **extra})


def parse_history(text: str) -> list[dict]:
    """Parse the log; a torn last line (power loss mid-append) is ignored, not fatal."""
    events = []
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            events.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return events


def fold(events: list[dict]) -> list[ReleaseRecord]:
    """One record per release, oldest first, carrying its latest status."""
    records: dict[str, ReleaseRecord] = {}
    for ev in events:
        rid = ev["release"]
        rec = records.get(rid)
        if rec is None:
            rec = records[rid] = ReleaseRecord(rid, ev["status"], ev["time"], ev["time"])
        rec.status = ev["status"]
        rec.updated = ev["time"]
        rec.states.append((ev["status"], ev["time"]))
        if ev.get("note"):
            rec.note = ev["note"]
        if ev.get("version"):
            rec.version = dict(ev["version"])
        if ev.get("apps"):
            rec.apps = list(ev["apps"])
        if ev.get("commits"):
            rec.commits = dict(ev["commits"])
    return sorted(records.values(), key=lambda r: r.id)


def previous_good(records: list[ReleaseRecord], before: str | None) -> ReleaseRecord | None:
    """The newest release older than `before` that went live and never failed."""
    candidates = [r for r in records if r.status in GOOD and (before is None or r.id < before)]
    return candidates[-1] if candidates else None


def releases_to_prune(
    on_disk: list[str],
    records: list[ReleaseRecord],
    keep: int,
    current: str | None,
    depends: dict[str, set[str]] | None = None,
) -> list[str]:
    """Release dirs to delete: every one but `current` and the newest `keep` *good* releases,
    and the releases those run their apps from (`depends`: an app's origin, never a chain).
    Failed releases never count."""
    status = {r.id: r.status for r in records}
    good = sorted((rid for rid in on_disk if status.get(rid) in GOOD), reverse=True)
    kept = set(good[:keep])
    if current:
        kept.add(current)
    kept |= {dep for rid in list(kept) for dep in (depends or {}).get(rid, set())}
    return [rid for rid in sorted(on_disk, reverse=True) if rid not in kept]
