"""What the webhook server remembers: delivery ids already seen (a small SQLite store, so a
replayed delivery is refused) and an audit log of every request (never secrets, signatures)."""

from __future__ import annotations

import json
import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from deployflow.backends.files import append_line

__all__ = ["WebhookStore"]


class WebhookStore:
    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.audit_path = folder / "webhooks.jsonl"
        self._db = sqlite3.connect(folder / "webhooks.sqlite", check_same_thread=False)
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS deliveries (id TEXT PRIMARY KEY, source TEXT, time TEXT)"
        )
        self._db.commit()
        self._lock = threading.Lock()

    def first_time(self, source: str, delivery: str) -> bool:
        """Record the delivery; False when it was seen before (a replay)."""
        with self._lock:
            try:
                self._db.execute(
                    "INSERT INTO deliveries VALUES (?, ?, ?)",
                    (f"{source}:{delivery}", source, datetime.now(UTC).isoformat()),
                )
                self._db.commit()
                return True
            except sqlite3.IntegrityError:
                return False

    def audit(self, **entry: Any) -> None:
        line = {"time": datetime.now(UTC).isoformat(timespec="seconds"), **entry}
        with self._lock:
            append_line(self.audit_path, json.dumps(line))
