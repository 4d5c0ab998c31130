"""Benchmark (not a test): backup and restore of a generated file tree plus a database, through
`deployflow backup create --files` / `backup restore --force`, against the same work done by
hand in the same run: `tar -I zstd` (or gzip when zstd is missing) of the shared dir and
`mariadb-dump | gzip`, then `mariadb < dump` and `tar -x`.

Prints both ratios and the absolute restore time (the requirement: under 2 minutes; the aim:
under 1 minute, ratio <= 1.2). `--engine postgresql` measures a PostgreSQL database instead
(bench/backup_pg.py): `pg_dump -Fc` / `pg_restore` by hand.
Usage: .venv/bin/python bench/backup.py [--files-mb 1024] [--db-mb 300] [--engine postgresql]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from example import prepare


def cli(env: dict[str, str], stack: Path, *args: str) -> str:
    argv = [sys.executable, "-m", "deployflow", *args, "--stack", str(stack)]
    return subprocess.run(argv, env=env, check=True, capture_output=True, text=True).stdout


def make_files(storage: Path, megabytes: int) -> None:
    """Uploads-like: a mix of incompressible blobs and text, in nested folders."""
    block = os.urandom(1 << 20)
    text = ("order line, table 12, 2 x ramen, paid\n" * 30000).encode()[: 1 << 20]
    for i in range(megabytes):
        folder = storage / "uploads" / f"{i // 100:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"f{i:05d}.bin").write_bytes(block if i % 3 else text)


def make_rows(socket: Path, database: str, megabytes: int) -> None:
    """A wide table of about `megabytes` MB, filled server-side."""
    sql = (
        "CREATE TABLE IF NOT EXISTS bench_orders (id INT AUTO_INCREMENT PRIMARY KEY, "
        "note VARCHAR(1000), total INT);\n"
        "INSERT INTO bench_orders (note, total) SELECT REPEAT(MD5(RAND()), 30), FLOOR(RAND()*1000)"
        " FROM seq_1_to_1000;\n"
    )
    rounds = max(1, megabytes)  # ~1 MB per thousand rows of 960 bytes
    again = "INSERT INTO bench_orders (note, total) SELECT note, total FROM bench_orders LIMIT 1000"
    again += ";\n"
    sql += again * (rounds - 1)
    argv = ["mariadb", f"--socket={socket}", database]
    subprocess.run(argv, input=sql, text=True, check=True)


def timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def by_hand(root: Path, socket: Path, database: str, out: Path) -> tuple[float, float]:
    compress = "zstd" if shutil.which("zstd") else "gzip -1"
    storage = root / "shared" / "backend"
    out.mkdir()

    def backup() -> None:
        subprocess.run(
            f"tar -I '{compress}' -cf {out}/files.tar -C {storage} storage", shell=True, check=True
        )
        subprocess.run(
            f"mariadb-dump --socket={socket} --single-transaction --routines --triggers --events "
            f"{database} | gzip > {out}/db.sql.gz",
            shell=True,
            check=True,
        )

    def restore() -> None:
        scratch = out / "x"
        scratch.mkdir()
        untar = f"tar -I '{compress}' -xf {out}/files.tar -C {scratch}"
        subprocess.run(untar, shell=True, check=True)
        subprocess.run(
            f"mariadb --socket={socket} -e 'CREATE DATABASE bench_scratch' && "
            f"gunzip -c {out}/db.sql.gz | mariadb --socket={socket} bench_scratch && "
            f"mariadb --socket={socket} -e 'DROP DATABASE bench_scratch'",
            shell=True,
            check=True,
        )
        shutil.rmtree(scratch)

    return timed(backup), timed(restore)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files-mb", type=int, default=1024)
    parser.add_argument("--db-mb", type=int, default=300)
    parser.add_argument("--engine", choices=("mariadb", "postgresql"), default="mariadb")
    args = parser.parse_args()
    if args.engine == "postgresql":
        from backup_pg import run_postgresql

        with tempfile.TemporaryDirectory(prefix="deployflow-bench-pg-", dir="/var/tmp") as tmp:
            os.chmod(tmp, 0o755)  # PostgreSQL may run as `postgres` (under root) and reach it
            run_postgresql(Path(tmp), args.db_mb, timed)
        return
    with tempfile.TemporaryDirectory(prefix="deployflow-bench-backup-") as tmp:
        work = Path(tmp)
        stack = prepare(work)
        root = work / "root"
        env = {**os.environ, "DEPLOYFLOW_ROOT": str(root), "DEPLOYFLOW_HOME": str(work / "home")}
        env.pop("PREFECT_API_URL", None)
        try:
            cli(env, stack, "run", "full")
            socket = root / "shared" / "mysql" / "mysqld.sock"
            database = next(
                line.split("=", 1)[1]
                for line in (stack.parent / "deployment.config.env").read_text().splitlines()
                if line.startswith("DB_DATABASE=")
            )
            print(f"generating {args.files_mb} MB of files and ~{args.db_mb} MB of rows ...")
            make_files(root / "shared" / "backend" / "storage", args.files_mb)
            make_rows(socket, database, args.db_mb)
            hand_backup, hand_restore = by_hand(root, socket, database, work / "hand")
            made = {}

            def create() -> None:
                made.update(json.loads(cli(env, stack, "backup", "create", "--files", "--json")))

            ours_backup = timed(create)
            restore = ("backup", "restore", made["id"], "--force")
            ours_restore = timed(lambda: cli(env, stack, *restore))
            size = made["size"] / (1 << 20)
            print(
                f"backup  deployflow {ours_backup:6.1f} s  by hand {hand_backup:6.1f} s  "
                f"ratio {ours_backup / hand_backup:.2f}  ({size:.0f} MB written)"
            )
            print(
                f"restore deployflow {ours_restore:6.1f} s  by hand {hand_restore:6.1f} s  "
                f"ratio {ours_restore / hand_restore:.2f}  (includes a safety backup first)"
            )
        finally:
            stop = ["services", "stop", "all", "--stack", str(stack)]
            me = [sys.executable, "-m", "deployflow"]
            subprocess.run([*me, *stop], env=env, capture_output=True)
            subprocess.run(
                [sys.executable, "-m", "deployflow", "server", "stop"], env=env, capture_output=True
            )


if __name__ == "__main__":
    main()
