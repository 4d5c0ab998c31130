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
            "CREATE TABLE IF NOT EXISTS deliveries (id TEXT PRIMARY KEY, source TEXT, time TEXT, "
            "state TEXT NOT NULL DEFAULT 'done')"
        )
        columns = [row[1] for row in self._db.execute("PRAGMA table_info(deliveries)")]
        if "state" not in columns:  # a store from before deliveries were claimed first
            self._db.execute("ALTER TABLE deliveries ADD COLUMN state TEXT NOT NULL DEFAULT 'done'")
        self._db.execute("DELETE FROM deliveries WHERE state = 'pending'")  # a crash mid-start
        self._db.commit()
        self._lock = threading.Lock()

    def claim(self, source: str, delivery: str) -> bool:
        """Hold the delivery while its run is started; False when it was started before (a
        replay) or is being started now."""
        with self._lock:
            try:
                self._db.execute(
                    "INSERT INTO deliveries VALUES (?, ?, ?, 'pending')",
                    (f"{source}:{delivery}", source, datetime.now(UTC).isoformat()),
                )
                self._db.commit()
                return True
            except sqlite3.IntegrityError:
                return False

    def done(self, source: str, delivery: str) -> None:
        """Its run exists: every later delivery with this id is a replay."""
        with self._lock:
            self._db.execute(
                "UPDATE deliveries SET state = 'done' WHERE id = ?", (f"{source}:{delivery}",)
            )
            self._db.commit()

    def release(self, source: str, delivery: str) -> None:
        """No run was started: the sender's redelivery is taken as new."""
        with self._lock:
            self._db.execute("DELETE FROM deliveries WHERE id = ?", (f"{source}:{delivery}",))
            self._db.commit()

    def audit(self, **entry: Any) -> None:
        line = {"time": datetime.now(UTC).isoformat(timespec="seconds"), **entry}
        with self._lock:
            append_line(self.audit_path, json.dumps(line))
