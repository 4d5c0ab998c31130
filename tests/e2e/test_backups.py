"""Backups for real: the example stack deployed on its own mariadbd, backed up (configs, dumps
with recorded table checksums, shared files), changed, restored byte for byte; verified with a
restore test; tampered, corrupted and tar-slip backups refused; failures recorded as failed."""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import zstandard

from tests.e2e.conftest import Stack


def _state(stack: Stack) -> dict[str, object]:
    """What a restore must bring back, byte for byte."""
    storage = stack.root / "shared" / "backend" / "storage"
    files = {
        p.relative_to(storage).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(storage.rglob("*"))
        if p.is_file()
    }
    config = stack.root / "current" / "pwa" / "dist" / "config.json"
    return {
        "devices": stack.sql("CHECKSUM TABLE devices")[0][1],
        "rows": stack.sql("SELECT COUNT(*) FROM devices")[0][0],
        "files": files,
        "config": hashlib.sha256(config.read_bytes()).hexdigest(),
    }


def _backup(stack: Stack, *args: str) -> dict:
    return json.loads(stack.cli("backup", "create", "--json", *args).stdout)


def _rewrite(path: Path, rel: str, data: bytes, resign: bool = True) -> None:
    """Replace a file inside a backup and fix its checksum line (a forger's backup); with
    `resign`, a forger who also stole the signing key: what the layers behind it must stop."""
    from deployflow.backends.signing import sign_backup

    (path / rel).write_bytes(data)
    sums = path / "checksums.sha256"
    lines = [
        f"{hashlib.sha256(data).hexdigest()}  {rel}" if line.endswith(f"  {rel}") else line
        for line in sums.read_text().splitlines()
    ]
    sums.write_text("\n".join(lines) + "\n")
    if resign:
        sign_backup(path)


def _full_disk(stack: Stack) -> None:
    backups, aside = stack.root / "backups", stack.root / "backups-aside"
    os.rename(backups, aside)
    backups.mkdir()
    try:
        mount = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(backups)])
        if mount.returncode != 0:  # no mount rights here: the rest of the test still runs
            return
        try:
            proc = stack.cli("backup", "create", "--files", check=False)
            assert proc.returncode == 1 and "No space left on device" in proc.stderr
            assert list(backups.iterdir()) == []
        finally:
            subprocess.run(["umount", str(backups)], check=True)
    finally:
        backups.rmdir()
        os.rename(aside, backups)


def _refused(stack: Stack, *args: str, says: str) -> None:
    proc = stack.cli(*args, check=False)
    assert proc.returncode != 0 and "Traceback" not in proc.stderr, proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and says in errors[0], proc.stderr


def test_create_change_restore_verify_and_refuse(stack: Stack) -> None:
    stack.cli("run", "full")
    storage = stack.root / "shared" / "backend" / "storage"
    (storage / "uploads").mkdir(parents=True, exist_ok=True)
    (storage / "uploads" / "menu.bin").write_bytes(os.urandom(200_000))
    before = _state(stack)

    made = _backup(stack, "--files", "--description", "before the change")
    assert made["include"] == ["configs", "database", "files", "release"]
    assert made["release"] == stack.current() and made["size"] > 0
    bid = made["id"]
    folder = stack.root / "backups" / bid
    assert (folder / "database" / "main.sql.gz").stat().st_mode & 0o777 == 0o600
    meta = json.loads((folder / "metadata.json").read_text())
    assert meta["databases"]["main"]["tables"]["devices"]["rows"] == before["rows"]
    assert "DB_PASSWORD" not in (folder / "metadata.json").read_text()

    # change rows, shared files and a live config
    stack.sql("INSERT INTO devices (name) VALUES ('tablet-99')")
    stack.sql("DELETE FROM devices WHERE name = 'tablet-01'")
    (storage / "uploads" / "menu.bin").write_bytes(b"overwritten")
    (storage / "uploads" / "new.txt").write_text("added after the backup\n")
    config = stack.root / "current" / "pwa" / "dist" / "config.json"
    config.write_text('{"apiUrl": "http://changed"}\n')
    assert _state(stack) != before

    plan = stack.cli("backup", "restore", bid, "--dry-run").stdout
    assert "main.devices" in plan and "uploads/menu.bin" in plan and "config.json" in plan
    assert "uploads/new.txt" in plan and "removed" in plan
    _refused(stack, "backup", "restore", bid, says="pass --force")  # no terminal to ask on
    assert _state(stack)["rows"] == before["rows"]  # same count (one in, one out), other rows

    out = stack.cli("backup", "restore", bid, "--force").stdout
    assert f"restored {bid}" in out and "restarted pwa" in out
    assert _state(stack) == before
    listed = {r["id"]: r for r in json.loads(stack.cli("backup", "list", "--json").stdout)}
    safety = next(r for r in listed.values() if r["kind"] == "safety")
    assert bid in safety["description"]

    # verify with a restore test, recorded in the list
    assert "ok" in stack.cli("backup", "verify", bid, "--restore-test").stdout
    listed = {r["id"]: r for r in json.loads(stack.cli("backup", "list", "--json").stdout)}
    assert listed[bid]["verified"] and listed[bid]["verified_ok"] is True

    # a flipped byte: verify and restore refuse, nothing changes
    tampered = stack.root / "backups" / safety["id"]
    dump = tampered / "database" / "main.sql.gz"
    data = bytearray(dump.read_bytes())
    data[len(data) // 2] ^= 0xFF
    dump.write_bytes(bytes(data))
    _refused(stack, "backup", "verify", safety["id"], says="fails its checksum")
    _refused(stack, "backup", "restore", safety["id"], "--force", says="fails its checksum")
    assert _state(stack) == before
    listed = {r["id"]: r for r in json.loads(stack.cli("backup", "list", "--json").stdout)}
    assert listed[safety["id"]]["verified_ok"] is False

    # a dump that lost a row but carries a matching checksum: only the restore test sees it
    forged = stack.root / "backups" / f"{bid}-forged"
    shutil.copytree(folder, forged)
    (forged / "verified.json").unlink()
    text = gzip.decompress((forged / "database" / "main.sql.gz").read_bytes()).decode()
    text = re.sub(r"\(\d+,'tablet-02','\w+'\),", "", text, count=1)
    assert "tablet-02" not in text
    _rewrite(forged, "database/main.sql.gz", gzip.compress(text.encode()), resign=False)
    _refused(stack, "backup", "verify", forged.name, says="signature does not match")
    _refused(stack, "backup", "restore", forged.name, "--force", says="signature does not match")
    _rewrite(forged, "database/main.sql.gz", gzip.compress(text.encode()))
    assert "ok" in stack.cli("backup", "verify", forged.name).stdout
    _refused(stack, "backup", "verify", forged.name, "--restore-test", says="restores differently")
    _refused(
        stack,
        "backup",
        "restore",
        forged.name,
        "--only",
        "database",
        "--force",
        says="differs from the backup",
    )
    assert _state(stack) == before

    # a signed dump that runs a shell command or reaches the live database: the client refuses
    # client commands, and a restore test loads as a user allowed only its scratch database
    live = stack.var("DB_DATABASE")
    canary = stack.root / "pwned-by-dump"
    for i, head in enumerate([f"\\! touch {canary}\n", f"DROP TABLE `{live}`.`devices`;\n"]):
        shell = stack.root / "backups" / f"{bid}-shell{i}"
        shutil.copytree(folder, shell)
        (shell / "verified.json").unlink()
        dumped = gzip.decompress((shell / "database" / "main.sql.gz").read_bytes()).decode()
        _rewrite(shell, "database/main.sql.gz", gzip.compress((head + dumped).encode()))
        _refused(stack, "backup", "verify", shell.name, "--restore-test", says="does not load")
        assert not canary.exists() and _state(stack) == before

    # tar-slip: a member escaping the shared dir is refused whole; nothing is written
    slip = stack.root / "backups" / f"{bid}-slip"
    shutil.copytree(folder, slip)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name in ("backend/storage/ok.txt", "../../evil.txt"):
            info = tarfile.TarInfo(name)
            info.size = 3
            tar.addfile(info, io.BytesIO(b"bad"))
    _rewrite(slip, "files.tar.zst", zstandard.ZstdCompressor().compress(buf.getvalue()))
    _refused(stack, "backup", "verify", slip.name, says="escapes the target")
    _refused(stack, "backup", "restore", slip.name, "--only", "files", "--force", says="escapes")
    assert not list(stack.root.rglob("evil.txt")) and not (storage / "ok.txt").exists()

    # bad input
    _refused(stack, "backup", "restore", "nope", "--dry-run", says="no backup 'nope'")
    _refused(stack, "backup", "restore", bid, "--only", "bogus", "--dry-run", says="--only")

    # a backup that fails (wrong database password) is recorded failed, leaves no dir
    wrong = {**stack.env, "WOOSOO_DB_PASSWORD": "not-the-password"}
    proc = stack.cli_env(wrong, "backup", "create", check=False)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "not-the-password" not in proc.stderr + proc.stdout
    rows = json.loads(stack.cli("backup", "list", "--json").stdout)
    assert rows[0]["status"] == "failed" and "not-the-password" not in json.dumps(rows)
    assert not list((stack.root / "backups").glob(".*.tmp"))

    # no dump tool: one clear line, recorded failed
    bare = {**stack.env, "PATH": str(Path(sys.executable).parent)}
    proc = stack.cli_env(bare, "backup", "create", check=False)
    assert proc.returncode == 1 and "mysqldump not found" in proc.stderr

    # a full disk (a 64 KiB tmpfs over backups/): the backup fails, nothing half-written stays
    _full_disk(stack)

    # encrypted at rest: nothing readable without the key, a round trip with it, a wrong key
    stack.edit("backup: {include:", "backup: {encrypt: true, key: BACKUP_KEY, include:")
    stack.edit("vars:\n", "vars:\n  BACKUP_KEY: {secret: WOOSOO_BACKUP_KEY}\n")
    stack.env["WOOSOO_BACKUP_KEY"] = base64.b64encode(os.urandom(32)).decode()
    sealed = _backup(stack, "--description", "sealed")
    dump = (stack.root / "backups" / sealed["id"] / "database" / "main.sql.gz").read_bytes()
    assert dump.startswith(b"DFSEAL1") and b"tablet" not in dump
    assert "ok" in stack.cli("backup", "verify", sealed["id"], "--restore-test").stdout
    stack.sql("DELETE FROM devices")
    stack.cli("backup", "restore", sealed["id"], "--only", "database", "--force")
    assert _state(stack) == before
    wrong = {**stack.env, "WOOSOO_BACKUP_KEY": base64.b64encode(os.urandom(32)).decode()}
    proc = stack.cli_env(wrong, "backup", "verify", sealed["id"], check=False)
    assert proc.returncode == 1 and "does not decrypt (wrong key" in proc.stderr
    assert wrong["WOOSOO_BACKUP_KEY"] not in proc.stderr + proc.stdout

    # retention keeps the minimum
    total = len([p for p in (stack.root / "backups").iterdir() if p.is_dir()])
    would = stack.cli("backup", "cleanup", "--older-than", "0m", "--keep-minimum", "2", "--dry-run")
    assert f"would delete {total - 2} backups" in would.stdout
    stack.cli("backup", "cleanup", "--older-than", "0m", "--keep-minimum", "2")
    assert len([p for p in (stack.root / "backups").iterdir() if p.is_dir()]) == 2
