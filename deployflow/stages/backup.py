"""Write a backup: what `backup.include` names (configs: the master config, the stored secrets
and every rendered config of the live release; release: its id and versions; database: a dump
of each database with per-table row counts, checksums and a schema fingerprint; files: the
apps' shared dirs as one tar stream), in a temp dir renamed when complete. A backup that fails
leaves no directory and is recorded as failed."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from deployflow.backends.archive import pack
from deployflow.backends.engines import dump_and_stats, engine_for
from deployflow.backends.files import append_line, atomic_write, fsync_dir
from deployflow.backends.sealed import parse_key, seal
from deployflow.backends.signing import sign_backup
from deployflow.backends.sqlite import SIDECARS
from deployflow.backends.treeops import copy_file, fresh_dir, move, remove
from deployflow.core.checksums import file_sha256
from deployflow.core.context import StackContext
from deployflow.core.retention import backups_to_prune
from deployflow.core.snapshot import Snapshot
from deployflow.core.variables import ENV_FILE_KEY
from deployflow.errors import BackupError, DeployflowError
from deployflow.stages import Log
from deployflow.stages.parallel import both

__all__ = [
    "BackupInfo",
    "BackupOptions",
    "backup_created",
    "backup_key",
    "create_backup",
    "master_files",
    "prune_backups",
    "shared_dirs",
    "sqlite_files",
]

MASTER = "_master"  # configs/_master/: the stack file, its env_file, the stored secrets, certs
CERTS = "certs"  # configs/_master/certs/: <root>/shared/certs/, what `deployflow cert` made
FILES = "files.tar.zst"


@dataclass(frozen=True)
class BackupInfo:
    id: str
    path: str
    previous_release: str | None
    files: int
    databases: int = 0


@dataclass(frozen=True)
class BackupOptions:
    description: str = ""
    kind: str = "deploy"  # deploy | manual | safety
    database: bool = True  # False: --no-database
    files: bool | None = None  # None: as backup.include says


def backup_key(ctx: StackContext) -> bytes | None:
    """The key `backup.key` names (a secret var), or None when the stack names none."""
    name = ctx.stack.backup.key
    if name is None:
        return None
    secret = ctx.secrets.get(name)
    if secret is None:
        raise BackupError(f"backup.key: {name} is not a secret var; declare it under vars:")
    return parse_key(secret.get_secret_value(), f"vars.{name}")


def master_files(ctx: StackContext) -> dict[str, Path]:
    """The master config by the name it has in a backup: stack file, env_file, secrets."""
    found = {ctx.stack_file.name: ctx.stack_file}
    env_file = ctx.stack.vars.get(ENV_FILE_KEY)
    if env_file is not None:
        path = (ctx.stack_dir / str(env_file)).expanduser()
        found[path.name] = path
    if ctx.layout.secrets.is_file():
        found["secrets.env"] = ctx.layout.secrets
    certs = ctx.layout.certs  # the certificates and their keys (sealed if encrypted)
    for path in sorted(certs.iterdir()) if certs.is_dir() else []:
        if path.is_file() and not path.name.startswith("."):
            found[f"{CERTS}/{path.name}"] = path
    return found


def shared_dirs(ctx: StackContext) -> dict[str, Path]:
    """Each app's shared entries (uploads, storage/, a SQLite instance/ dir) by archive name."""
    return {
        f"{app}/{entry.rstrip('/')}": ctx.layout.shared / app / entry.rstrip("/")
        for app, spec in ctx.stack.apps.items()
        for entry in spec.shared
    }


def sqlite_files(ctx: StackContext) -> list[str]:
    """SQLite databases in the shared dirs, with their journals, relative to shared/: the
    database part copies them consistently, so the files archive leaves them out."""
    found = []
    for name, spec in ctx.stack.databases.items():
        file = Path(ctx.database(name).database)
        if spec.engine == "sqlite" and file.is_relative_to(ctx.layout.shared):
            rel = file.relative_to(ctx.layout.shared).as_posix()
            found += [rel + suffix for suffix in ("", *SIDECARS)]
    return found


def _copy_configs(ctx: StackContext, live: Snapshot | None, dest: Path) -> list[Path]:
    """The master config, then the live release's rendered configs (modes kept)."""
    wanted = [(dest / MASTER / name, src) for name, src in master_files(ctx).items()]
    if live is not None:
        lay = ctx.layout
        pairs = [(None, d) for d in live.stack_configs]
        pairs += [(app, d) for app, state in live.apps.items() for d in state.configs]
        wanted += [
            (dest / (app or "_stack") / rel, lay.config_file(live.release, app, rel))
            for app, rel in pairs
        ]
    copied = []
    for target, src in wanted:
        if src.is_file():
            copy_file(src, target)
            copied.append(target)
    return copied


def _databases(
    ctx: StackContext, tmp: Path, sums: dict[Path, str], key: bytes | None, log: Log
) -> dict[str, Any]:
    """Dump each database into `tmp`; its stats are recorded and its file hashed into `sums`."""
    backup_id = tmp.name.removeprefix(".").removesuffix(".tmp")
    recorded: dict[str, Any] = {}
    for name in ctx.stack.databases:
        db = ctx.database(name)
        engine = engine_for(db)
        path = tmp / "database" / f"{name}{engine.dump_suffix}"
        sums[path], stats = dump_and_stats(
            engine,
            db,
            path,
            key,
            lambda n, db_name=name: log(f"database {db_name}: {n >> 20} MB dumped"),
        )
        schema = engine.schema_fingerprint(db)
        recorded[name] = {"engine": engine.name, "tables": stats, "schema": schema}
        size = path.stat().st_size
        log(f"backup {backup_id}: database {name} dumped ({size} bytes, {len(stats)} tables)")
    return recorded


def _record(ctx: StackContext, row: dict[str, Any]) -> None:
    append_line(ctx.layout.state / "backups.jsonl", json.dumps(row, sort_keys=True))


def create_backup(
    ctx: StackContext,
    backup_id: str,
    live: Snapshot | None,
    log: Log,
    options: BackupOptions = BackupOptions(),
) -> BackupInfo:
    """Write backups/<id>/ (metadata.json, checksums.sha256, configs/, database/, files)."""
    lay = ctx.layout
    include = set(ctx.stack.backup.include)
    if not options.database:
        include.discard("database")
    if options.files is not None:
        include = include | {"files"} if options.files else include - {"files"}
    warnings = []
    if "database" in include and not ctx.stack.databases:
        include.discard("database")  # what the backup holds, honestly
        warnings.append("backup.include names database, but the stack declares none: no dump")
        log(f"backup {backup_id}: warning: {warnings[-1]}")
    final = lay.backup(backup_id)
    if final.exists():
        raise BackupError(f"backup {backup_id} already exists; pick another id")
    tmp = lay.backups / f".{backup_id}.tmp"
    fresh_dir(tmp, mode=0o700)
    started = datetime.now(UTC)
    try:
        key = backup_key(ctx) if ctx.stack.backup.encrypt else None
        sums: dict[Path, str] = {}  # dumps and archives are hashed as they are written
        copied = _copy_configs(ctx, live, tmp / "configs") if "configs" in include else []
        for path in copied:
            if key is not None:
                seal(path, key)
            sums[path] = file_sha256(path)

        def archive() -> None:
            if "files" in include:
                dirs = sorted(shared_dirs(ctx))
                sums[tmp / FILES] = pack(
                    lay.shared,
                    dirs,
                    tmp / FILES,
                    key,
                    lambda n: log(f"files: {n >> 20} MB"),
                    exclude=sqlite_files(ctx),
                )
                log(f"backup {backup_id}: shared dirs archived ({', '.join(dirs) or 'none'})")

        def databases() -> dict[str, Any]:
            return _databases(ctx, tmp, sums, key, log) if "database" in include else {}

        recorded, _ = both(databases, archive)  # on two cores, side by side
        files = sorted(sums)
        lines = [f"{sums[p]}  {p.relative_to(tmp).as_posix()}\n" for p in files]
        atomic_write(tmp / "checksums.sha256", "".join(lines), mode=0o600)
        keep = live is not None and "release" in include
        metadata = {
            "id": backup_id,
            "created": started.isoformat(timespec="seconds"),
            "kind": options.kind,
            "description": options.description,
            "project": ctx.stack.project,
            "environment": ctx.stack.environment,
            "include": sorted(include),
            "previous_release": live.release if keep and live else None,
            "versions": {a: s.version for a, s in live.apps.items()} if keep and live else {},
            "databases": recorded,
            "files": len(files),
            "size": sum(p.stat().st_size for p in files),
            "encrypted": bool(ctx.stack.backup.encrypt),
            "warnings": warnings,
        }
        atomic_write(tmp / "metadata.json", json.dumps(metadata, indent=2) + "\n", mode=0o600)
        sign_backup(tmp)
        move(tmp, final)
    except BaseException as exc:
        remove(tmp)
        reason = str(exc).splitlines()[0] if isinstance(exc, DeployflowError) else repr(exc)
        _record(
            ctx,
            {
                "id": backup_id,
                "status": "failed",
                "error": ctx.redact(reason)[:300],
                "created": started.isoformat(timespec="seconds"),
            },
        )
        if isinstance(exc, OSError):
            raise BackupError(f"backup {backup_id} failed and was removed ({exc})") from None
        raise
    fsync_dir(lay.backups)
    previous = live.release if live else None
    log(f"backup {backup_id}: {len(files)} files, live release {previous or 'none'}")
    return BackupInfo(backup_id, str(final), previous, len(copied), len(recorded))


def backup_created(path: Path) -> datetime | None:
    try:
        return datetime.fromisoformat(json.loads((path / "metadata.json").read_text())["created"])
    except (OSError, ValueError, KeyError):
        return None


def prune_backups(
    ctx: StackContext,
    log: Log,
    keep_minimum: int | None = None,
    older_than: str | None = None,
    dry_run: bool = False,
) -> list[str]:
    """Apply the retention policy (the stack's `backup:` unless given) to backups/; unreadable
    ones are kept."""
    root = ctx.layout.backups
    created = {}
    for path in sorted(root.iterdir()) if root.is_dir() else []:
        when = backup_created(path) if path.is_dir() and not path.name.startswith(".") else None
        if when is not None:
            created[path.name] = when
    policy = ctx.stack.backup
    keep = policy.keep_minimum if keep_minimum is None else keep_minimum
    age = older_than or policy.older_than
    doomed = backups_to_prune(created, keep, age, datetime.now(UTC))
    if dry_run:
        return doomed
    for bid in doomed:
        remove(root / bid)
    if doomed:
        log(f"removed {len(doomed)} backups older than {age}: {', '.join(doomed)}")
    return doomed
