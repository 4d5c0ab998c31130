"""Deploy v1, v2, a broken v3 (rolled back automatically), then roll back by hand: all for real
(real processes on real ports, a private MariaDB, the CLI in subprocesses, a real Prefect API)."""

from __future__ import annotations

import gzip
import json
import os

import httpx
import websocket

from tests.e2e.conftest import Stack

BREAK_HEALTH = 'ROUTES = {"/api/health": health'
BROKEN = 'ROUTES = {"/api/health": lambda: (500, {"status": "broken"})'


def test_deploy_v1_v2_broken_v3_and_manual_rollback(stack: Stack) -> None:
    # v1: everything is built, migrated, started and verified
    out = stack.cli("run", "full").stdout
    assert "**Result:** success" in out and "running:" in out
    v1 = stack.current()
    health = stack.health()
    assert health == {"status": "ok", "release": v1, "version": "1.0.0", "db": "ok"}
    devices = httpx.get(f"http://127.0.0.1:{stack.var('BACKEND_PORT')}/api/devices").json()
    assert [d["name"] for d in devices] == ["tablet-01", "tablet-02", "relay-01"]
    index = httpx.get(f"http://127.0.0.1:{stack.var('PWA_PORT')}/").text
    assert "Woosoo" in index and "assets/app." in index and "assets/app.js" not in index
    ws = websocket.create_connection(f"ws://127.0.0.1:{stack.var('RELAY_PORT')}", timeout=5)
    ws.send("ping")
    assert ws.recv() == f"pong {v1}"
    ws.close()
    env_file = stack.root / "current" / "backend" / ".env"
    assert oct(env_file.stat().st_mode & 0o777) == "0o600"
    assert (stack.root / "current" / ".stack" / "nginx" / "woosoo.conf").is_file()

    # v2: only the backend changed, so pwa and relay builds are reused from cache
    stack.set_version("backend", "2.0.0")
    summary = json.loads(stack.cli("run", "full", "--json").stdout)
    v2 = summary["release"]
    assert summary["result"] == "success" and stack.current() == v2
    assemble = next(s for s in summary["stages"] if s["name"] == "assemble")
    assert assemble["detail"] == "changed: backend; unchanged: pwa, relay"
    assert os.readlink(stack.root / "releases" / v2 / "pwa") == f"../{v1}/pwa"
    assert stack.health()["release"] == v2 and stack.health()["version"] == "2.0.0"
    backup = stack.root / "backups" / v2  # taken before v2's migrations: the v1 database
    metadata = json.loads((backup / "metadata.json").read_text())
    assert metadata["previous_release"] == v1 and list(metadata["databases"]) == ["main"]
    with gzip.open(backup / "database" / "main.sql.gz", "rt") as dump:
        text = dump.read()
    assert "CREATE TABLE `devices`" in text and "tablet-01" in text
    sums = (backup / "checksums.sha256").read_text()
    assert "database/main.sql.gz" in sums and "configs/backend/.env" in sums
    assert metadata["versions"] == {"backend": "1.0.0", "pwa": "1.0.0", "relay": "1.0.0"}
    assert oct((backup / "configs" / "backend" / ".env").stat().st_mode & 0o777) == "0o600"
    assert oct((backup / "database" / "main.sql.gz").stat().st_mode & 0o777) == "0o600"

    # broken v3: health never passes -> v2 back, v3 marked failed, one red line, exit 1
    app_py = stack.dir / "apps" / "backend" / "app.py"
    app_py.write_text(app_py.read_text().replace(BREAK_HEALTH, BROKEN))
    stack.set_version("backend", "3.0.0")
    proc = stack.cli("run", "full", check=False)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr + proc.stdout
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "rolled back" in errors[0] and f"live: {v2}" in errors[0]
    assert "**Result:** rolled back" in proc.stdout
    assert stack.current() == v2
    assert stack.health() == {"status": "ok", "release": v2, "version": "2.0.0", "db": "ok"}
    statuses = {r["id"]: r["status"] for r in stack.releases()}
    v3 = max(statuses)
    assert statuses[v3] == "failed" and statuses[v2] == "live"
    reports = sorted((stack.root / ".deployflow" / "reports").glob(f"{v3}-full.*"))
    assert [p.suffix for p in reports] == [".json", ".md"]
    assert json.loads(reports[0].read_text())["result"] == "rolled back"

    # rollback by hand skips the failed v3 and returns to v1 (code and configs)
    refused = stack.cli("rollback", "--to", v3, check=False)
    assert refused.returncode == 1 and "marked failed" in refused.stderr
    assert "would roll back" in stack.cli("rollback", "--dry-run").stdout
    stack.cli("rollback")
    assert stack.current() == v1
    assert stack.health() == {"status": "ok", "release": v1, "version": "1.0.0", "db": "ok"}
    rows = {r["id"]: r for r in stack.releases()}
    assert rows[v2]["status"] == "rolled_back" and rows[v1]["current"]
    assert "DB_PASSWORD" not in json.dumps(rows)
