"""The master config editor's operations: open the stack's `deployment.config.env` (read-only
when it does not parse, with the line that failed), judge values by the loader's rules, preview
a masked diff, and save: refused over a file changed on disk since it was opened or while any
value is invalid, the old file backed up into the backup store first, the new one written
whole (temp file, fsync, rename) with its comments, key order and mode."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from deployflow.backends.files import atomic_write
from deployflow.core.configdoc import ConfigDoc, masked_diff, parse_doc, render_doc
from deployflow.core.configfields import FieldInfo, describe_fields, field_problems
from deployflow.core.envfile import ENV_FILE_KEY
from deployflow.errors import ConfigError, StackError, UsageError
from deployflow.stages import Log

if TYPE_CHECKING:
    from deployflow.core.context import StackContext

__all__ = ["EditSession", "open_master", "save_master", "stack_facts"]


@dataclass
class EditSession:
    path: Path
    text: str  # the file as it was when opened
    environment: str
    doc: ConfigDoc | None  # None: it does not parse (read-only)
    error: str | None = None  # why it is read-only
    fields: list[FieldInfo] = field(default_factory=list)

    @property
    def values(self) -> dict[str, str]:
        return dict(self.doc.values) if self.doc else {}

    @property
    def secrets(self) -> set[str]:
        return {f.name for f in self.fields if f.secret}

    def problems(self, values: dict[str, str]) -> dict[str, str]:
        return field_problems(values, self.environment)

    def rendered(self, values: dict[str, str]) -> str:
        assert self.doc is not None
        return render_doc(self.doc, values)

    def disk_change(self) -> str:
        """How the file on disk differs from what was opened (masked; '' when it does not)."""
        now = self.path.read_text(encoding="utf-8")
        if now == self.text:
            return ""
        return masked_diff(self.text, now, self.secrets, self.path.name) or "(whitespace only)"

    def preview(self, values: dict[str, str]) -> str:
        """The change as a unified diff, secrets masked ('' when nothing changed)."""
        return masked_diff(self.text, self.rendered(values), self.secrets, self.path.name)


def stack_facts(stack_file: Path) -> tuple[str | None, str, set[str]]:
    """What the editor needs of the stack file, read as plain YAML (no models built: it opens
    fast; the stack is loaded and checked when saving): the master config's name, the
    environment, and the names of its secret vars."""
    try:
        data = yaml.safe_load(stack_file.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise StackError(f"{stack_file}: cannot read it as YAML ({exc})") from None
    data = data if isinstance(data, dict) else {}
    values = data.get("vars") if isinstance(data.get("vars"), dict) else {}
    secrets = {n for n, v in values.items() if isinstance(v, dict) and "secret" in v}
    secrets |= {str(n) for n in data.get("secrets") or [] if isinstance(n, str)}
    env_file = values.get(ENV_FILE_KEY)
    environment = str(data.get("environment") or "production")
    return (str(env_file) if env_file is not None else None), environment, secrets


def open_master(
    env_file: str | None, stack_dir: Path, environment: str, secret_names: set[str]
) -> EditSession:
    """The stack's master config, opened read-only (with the failing line) when it does not
    parse; `secret_names` (the stack's secret vars) are masked."""
    if env_file is None:
        raise UsageError(
            "the stack names no master config (vars.env_file: deployment.config.env); "
            "edit the stack file itself"
        )
    path = (stack_dir / str(env_file)).expanduser()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
    session = EditSession(path, text, environment, None)
    try:
        session.doc = parse_doc(text, str(path))
    except StackError as exc:
        session.error = str(exc)
        return session
    session.fields = describe_fields(session.doc, secret_names)
    return session


def save_master(ctx: StackContext, session: EditSession, values: dict[str, str], log: Log) -> str:
    """Back up, then write; returns the backup's id. Refuses (ConfigError, one line) a
    read-only session, invalid values or a file changed on disk since it was opened."""
    if session.doc is None:
        raise ConfigError(f"{session.path} is open read-only: {session.error}")
    problems = session.problems(values)
    if problems:
        name, why = next(iter(problems.items()))
        raise ConfigError(f"{name}: {why}; fix it before saving")
    if session.disk_change():
        raise ConfigError(
            f"{session.path} changed on disk since the editor opened it; not saved (reopen "
            "the editor to edit the new file)"
        )
    from deployflow.ops.backups import new_backup  # here: the editor opens without it
    from deployflow.stages.backup import BackupOptions

    options = BackupOptions(
        description=f"config edit: {session.path.name} before saving",
        kind="manual",
        database=False,
        files=False,
    )
    backup = new_backup(ctx, log, options)["id"]
    mode = session.path.stat().st_mode & 0o777
    atomic_write(session.path, session.rendered(values), mode=mode)
    session.text = session.path.read_text(encoding="utf-8")
    session.doc = parse_doc(session.text, str(session.path))
    log(f"saved {session.path} (the old one is in backup {backup})")
    return backup
