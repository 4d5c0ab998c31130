"""Where everything lives under a deploy root (the Capistrano/Deployer release model)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

__all__ = ["SNAPSHOT", "STACK_CONFIGS", "Layout", "new_release_id"]

SNAPSHOT = ".release.json"
STACK_CONFIGS = ".stack"


@dataclass(frozen=True)
class Layout:
    root: Path

    @property
    def releases(self) -> Path:
        return self.root / "releases"

    @property
    def current(self) -> Path:
        return self.root / "current"

    @property
    def shared(self) -> Path:
        return self.root / "shared"

    @property
    def certs(self) -> Path:
        """What `deployflow cert` made: certificates, their keys (0600) and index.json."""
        return self.shared / "certs"

    @property
    def backups(self) -> Path:
        return self.root / "backups"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def state(self) -> Path:
        return self.root / ".deployflow"

    @property
    def builds(self) -> Path:
        return self.root / "builds"

    @property
    def journal(self) -> Path:
        return self.state / "journal.json"

    @property
    def lock(self) -> Path:
        return self.state / "lock"

    @property
    def history(self) -> Path:
        return self.state / "releases.jsonl"

    @property
    def reports(self) -> Path:
        return self.state / "reports"

    @property
    def run(self) -> Path:
        return self.state / "run"

    @property
    def proxy(self) -> Path:
        """The blue-green proxy's nginx prefix: its config, upstream files, pid and temp."""
        return self.root / "proxy"

    @property
    def secrets(self) -> Path:
        return self.state / "secrets.env"

    def release(self, release_id: str) -> Path:
        return self.releases / release_id

    def app_dir(self, release_id: str, app: str) -> Path:
        return self.releases / release_id / app

    def config_file(self, release_id: str, app: str | None, dest: str) -> Path:
        """A rendered config lives in its release: `<app>/<dest>`, or `.stack/<dest>` for the
        stack's own (an nginx site), so `current` switches code and configs together."""
        return self.release(release_id) / (app or STACK_CONFIGS) / dest

    def snapshot(self, release_id: str) -> Path:
        return self.release(release_id) / SNAPSHOT

    def build_dir(self, app: str, key: str) -> Path:
        return self.builds / app / key[:24]

    def build_done(self, app: str, key: str) -> Path:
        """Written once a build finished; a build dir without it is a partial one."""
        return self.builds / app / f"{key[:24]}.done"

    def backup(self, backup_id: str) -> Path:
        return self.backups / backup_id


def new_release_id(
    now: datetime | None = None, existing: set[str] | frozenset[str] = frozenset()
) -> str:
    """A sortable UTC timestamp id, suffixed when two releases start in the same second."""
    base = (now or datetime.now(UTC)).strftime("%Y%m%d%H%M%S")
    candidate, n = base, 1
    while candidate in existing:
        n += 1
        candidate = f"{base}-{n}"
    return candidate
