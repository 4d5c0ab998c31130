"""`backup verify`: every checksum, every archive readable to its end, and with a restore test
each dump loaded into a scratch database whose tables must match what was recorded."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from deployflow.backends.archive import check_members, read_sealed, read_to_end
from deployflow.backends.engines import dump_file, engine_for
from deployflow.backends.files import atomic_write
from deployflow.backends.signing import SIGNATURE, check_signature
from deployflow.core.backupdiff import parse_checksums, table_problems
from deployflow.core.checksums import file_sha256
from deployflow.core.context import StackContext
from deployflow.errors import BackupError
from deployflow.ops.backups import VERIFIED, backup_dir, now_iso
from deployflow.stages import Log
from deployflow.stages.backup import backup_key

__all__ = ["check_integrity", "metadata", "recorded_databases", "verify_backup"]

OWN = {"metadata.json", "checksums.sha256", VERIFIED, SIGNATURE}


def metadata(path: Path) -> dict[str, Any]:
    try:
        return json.loads((path / "metadata.json").read_text())
    except (OSError, ValueError) as exc:
        raise BackupError(f"backup {path.name}: metadata.json unreadable ({exc})") from None


def check_integrity(
    path: Path, log: Log, key: bytes | None = None, deep: bool = True
) -> dict[str, Any]:
    """Checksums match, nothing missing or extra; with `deep`, every dump and archive is also
    read (decrypted, decompressed) to its end. A restore reads them anyway, before any swap.
    The signature comes first: nothing of a backup we did not sign is read further."""
    check_signature(path)
    meta = metadata(path)
    try:
        sums = parse_checksums((path / "checksums.sha256").read_text())
    except OSError:
        raise BackupError(f"backup {path.name}: checksums.sha256 missing") from None
    present = {p.relative_to(path).as_posix() for p in path.rglob("*") if p.is_file()} - OWN
    if present - set(sums):
        extra = sorted(present - set(sums))[0]
        raise BackupError(f"backup {path.name}: {extra} is not in checksums.sha256 (tampered?)")
    for rel, digest in sums.items():
        file = path / rel
        if not file.is_file():
            raise BackupError(f"backup {path.name}: {rel} is missing")
        if file_sha256(file) != digest:
            raise BackupError(
                f"backup {path.name}: {rel} fails its checksum (corrupted or tampered)"
            )
        if not deep:
            continue
        if rel.startswith("files.tar"):
            check_members(file, key)
        elif rel.endswith(".gz"):
            read_to_end(file, key)
        elif rel.endswith(".pgdump"):
            read_sealed(file, key)
    log(f"backup {path.name}: {len(sums)} files match their checksums and read to the end")
    return meta


def recorded_databases(meta: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """{database: {"tables": stats or None}}; backups written before stats were recorded list
    only the names."""
    found = meta.get("databases") or {}
    if isinstance(found, list):
        return {name: {"tables": None} for name in found}
    return found


def _restore_test(ctx: StackContext, meta: dict[str, Any], path: Path, log: Log) -> list[str]:
    """Each recorded database restored into a scratch one and compared: their names."""
    found = recorded_databases(meta)
    if not found:
        log(f"backup {path.name}: nothing to restore-test (it holds no database dump)")
        return []
    for name, recorded in found.items():
        if recorded["tables"] is None:
            raise BackupError(f"backup {path.name}: it recorded no table checksums to test against")
        if name not in ctx.stack.databases:
            raise BackupError(f"backup {path.name}: database {name} is not in the stack any more")
        db = ctx.database(name)
        engine = engine_for(db)
        scratch = engine.scratch_name(db, "verify")
        dump = dump_file(path, name, recorded, db)
        engine.load_into_scratch(db, dump, scratch, backup_key(ctx), contained=True)
        try:
            problems = table_problems(recorded["tables"], engine.table_stats(db, scratch))
        finally:
            engine.drop_database(db, scratch)
        if problems:
            raise BackupError(
                f"backup {path.name}: database {name} restores differently: "
                + "; ".join(problems[:3])
            )
        log(
            f"backup {path.name}: database {name} restored into a scratch database; "
            f"{len(recorded['tables'])} tables match their row counts and checksums"
        )
    return list(found)


def verify_backup(
    ctx: StackContext, backup_id: str, restore_test: bool, log: Log
) -> dict[str, Any]:
    """Verify and record the outcome beside the backup (shown by `backup list`)."""
    path = backup_dir(ctx, backup_id)
    result: dict[str, Any] = {"id": backup_id, "at": now_iso(), "restore_test": restore_test}
    try:
        meta = check_integrity(path, log, backup_key(ctx))
        if restore_test:
            result["restore_tested"] = _restore_test(ctx, meta, path, log)
    except BackupError as exc:
        result.update(ok=False, problem=str(exc))
        atomic_write(path / VERIFIED, json.dumps(result) + "\n", mode=0o600)
        raise
    result["ok"] = True
    atomic_write(path / VERIFIED, json.dumps(result) + "\n", mode=0o600)
    return result
