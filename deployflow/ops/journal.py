"""The deploy journal: a small file saying which operation is changing the root, from which
release to which, and whether it has touched what is live. A killed run leaves it behind and
the next operation (or `deployflow recover`) reads it to put the last good release back."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

from deployflow.backends.files import atomic_write
from deployflow.backends.treeops import remove
from deployflow.core.layout import Layout

__all__ = ["Journal", "clean_leftovers", "read_journal"]


@dataclass
class Journal:
    op: str  # deploy | rollback
    release: str  # the release being made live
    previous: str | None  # the good release live before it
    phase: str = "start"
    touched_live: bool = False
    apps: list[str] = field(default_factory=list)  # apps whose services it stops and starts
    data_backup: str | None = None  # set once data may change: the backup that puts it back
    history_at: int = 0  # the history's size when it began: a "live" past it means it finished

    def save(self, lay: Layout) -> None:
        atomic_write(lay.journal, json.dumps(asdict(self)))

    def enter(self, lay: Layout, phase: str, live: bool) -> None:
        self.phase = phase
        self.touched_live = self.touched_live or live
        self.save(lay)

    @staticmethod
    def clear(lay: Layout) -> None:
        remove(lay.journal)


def read_journal(lay: Layout) -> Journal | None:
    try:
        return Journal(**json.loads(lay.journal.read_text()))
    except FileNotFoundError:
        return None
    except (ValueError, TypeError):
        return Journal(op="unknown", release="", previous=None, phase="unreadable")


def clean_leftovers(lay: Layout) -> list[str]:
    """Temp files and dirs a killed run left (backups in progress may hold secrets)."""
    removed = []
    patterns = [
        (lay.backups, ".*.tmp"),
        (lay.root, ".current.*.tmp"),
        (lay.state, ".*.tmp"),
        (lay.run, ".*.tmp"),
    ]
    for folder, pattern in patterns:
        for path in folder.glob(pattern) if folder.is_dir() else []:
            remove(path)
            removed.append(str(path))
    return removed
