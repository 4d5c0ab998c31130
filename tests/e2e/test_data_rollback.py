"""The database goes back with the code, for real: a deploy whose second migration fails,
a rollback across a schema change (guarded, then --with-database), and a deploy killed after
its migrations, recovered by the next command: every table exactly as before (CHECKSUM TABLE)."""

from __future__ import annotations

import os
import signal

from tests.e2e.conftest import Stack, until


def _tables(stack: Stack) -> dict[str, int]:
    names = [row[0] for row in stack.sql("SHOW TABLES")]
    return {name: stack.sql(f"CHECKSUM TABLE `{name}`")[0][1] for name in names}


def _error(proc) -> str:
    assert proc.returncode != 0 and "Traceback" not in proc.stderr, proc.stderr[-2000:]
    lines = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, proc.stderr[-2000:]
    return lines[0]


def test_database_goes_back_with_the_code(stack: Stack) -> None:
    stack.cli("run", "full")
    v1 = stack.current()
    before = _tables(stack)
    assert {"devices", "deployflow_migrations"} <= set(before)
    migrations = stack.dir / "apps" / "backend" / "migrations"
    (migrations / "003_orders.sql").write_text(
        "CREATE TABLE orders (id INT PRIMARY KEY, total INT);\nINSERT INTO orders VALUES (1, 10);\n"
    )
    (migrations / "004_broken.sql").write_text(
        "UPDATE devices SET status = 'migrating';\nTHIS IS NOT SQL;\n"
    )

    # the second migration fails half-way: code, configs and data are back as they were
    stack.set_version("backend", "2.0.0")
    proc = stack.cli("run", "full", check=False)
    assert "migration failed" in _error(proc)
    assert "restored from backup" in proc.stdout
    assert stack.current() == v1 and stack.health()["release"] == v1
    assert _tables(stack) == before

    # a schema change that works; new rows arrive after it
    (migrations / "004_broken.sql").unlink()
    stack.set_version("backend", "2.0.1")
    stack.cli("run", "full")
    v2 = stack.current()
    assert "orders" in _tables(stack)
    stack.sql("INSERT INTO orders VALUES (2, 20)")

    # the guard: code may not go back across the schema change with the data left as it is
    line = _error(stack.cli("rollback", check=False))
    assert "orders" in line and "--with-database" in line
    assert stack.current() == v2
    dry = stack.cli("rollback", "--with-database", "--dry-run").stdout
    assert f"restored from backup {v2}" in dry
    out = stack.cli("rollback", "--with-database").stdout
    assert f"restored from backup {v2}" in out
    assert stack.current() == v1 and stack.health()["release"] == v1
    assert _tables(stack) == before

    # killed after its migrations ran: the next command puts code and data back
    stack.set_version("backend", "3.0.0")
    proc = stack.popen_env({**stack.env, "DEPLOYFLOW_FAILPOINTS": "switch=hang"}, "run", "full")
    journal = stack.root / ".deployflow" / "journal.json"

    def at_switch() -> bool:
        assert proc.poll() is None, "the deploy ended before it reached switch"
        return journal.is_file() and '"phase": "switch"' in journal.read_text()

    until(at_switch, poll=0.2, what="the deploy reaching switch")
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert "orders" in _tables(stack)  # migrated, then the process died
    out = stack.cli("recover", "--json").stdout
    assert '"databases": [\n    "main"\n  ]' in out
    assert stack.current() == v1 and _tables(stack) == before
