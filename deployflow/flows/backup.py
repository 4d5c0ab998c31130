"""`backup`, `backup-verify` and `restore`: the backup operations as Prefect flows (the CLI runs
them; deployments let the UI, a schedule or a webhook run them on the target's worker)."""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger

from deployflow.flows.runcontext import run_context
from deployflow.flows.settle import operation
from deployflow.ops.backup_verify import verify_backup
from deployflow.ops.backups import new_backup
from deployflow.ops.restore import restore_backup
from deployflow.stages.backup import BackupOptions

__all__ = ["backup", "backup_verify", "restore"]


@flow(name="backup", flow_run_name="backup-{stack_name}")
def backup(
    stack: str,
    root: str | None = None,
    target: str | None = None,
    database: bool = True,
    files: bool | None = None,
    description: str = "",
    stack_name: str = "stack",
) -> dict[str, Any]:
    """Back up configs, the live release, each database and (with `files`) the shared dirs."""
    ctx = run_context(stack, root, target=target)
    log = get_run_logger()
    options = BackupOptions(description=description, kind="manual", database=database, files=files)
    return operation(new_backup, ctx.redact)(ctx, lambda m: log.info(ctx.redact(m)), options)


@flow(name="backup-verify", flow_run_name="backup-verify-{backup_id}")
def backup_verify(
    stack: str,
    backup_id: str,
    root: str | None = None,
    target: str | None = None,
    restore_test: bool = False,
    stack_name: str = "stack",
) -> dict[str, Any]:
    """Checksums, archives readable to the end; with `restore_test`, each dump restored into a
    scratch database and compared table by table with what was recorded."""
    ctx = run_context(stack, root, target=target)
    log = get_run_logger()
    run = operation(verify_backup, ctx.redact)
    return run(ctx, backup_id, restore_test, lambda m: log.info(ctx.redact(m)))


@flow(name="restore", flow_run_name="restore-{backup_id}")
def restore(
    stack: str,
    backup_id: str,
    root: str | None = None,
    target: str | None = None,
    only: str | None = None,
    stack_name: str = "stack",
) -> dict[str, Any]:
    """Restore a backup (or `only` configs, database or files) after a safety backup."""
    ctx = run_context(stack, root, target=target)
    log = get_run_logger()
    run = operation(restore_backup, ctx.redact)
    return run(ctx, backup_id, only, lambda m: log.info(ctx.redact(m)))
