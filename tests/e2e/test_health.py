"""`deployflow health` on the deployed example: real processes, ports, probes and psutil
readings, restarts counted, a real job queue counted; a crossed threshold is degraded (exit 1),
a stopped service is down (exit 2)."""

from __future__ import annotations

import json

from tests.e2e.conftest import Stack


def _health(stack: Stack, *args: str) -> tuple[int, dict]:
    proc = stack.cli("health", "--json", *args, check=False)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc.returncode, json.loads(proc.stdout)


def test_health_table_grades_and_exit_codes(stack: Stack) -> None:
    # host CPU and response times depend on what else the machine runs: graded by what the
    # test controls (memory, failed jobs, stopped services)
    stack.edit("backup: {", "health: {thresholds: {cpu: null, response_ms: null}}\nbackup: {")
    stack.cli("run", "full")
    code, report = _health(stack)
    assert code == 0 and report["verdict"] == "ok", report
    services = {s["name"]: s for s in report["services"]}
    web = services["backend-api"]
    assert web["running"] and web["pid"] and web["port_open"] is True
    assert web["rss_mb"] > 5 and web["uptime_s"] >= 0 and web["processes"] >= 1
    assert services["db"]["port_open"] is True  # infrastructure too
    assert report["checks"] and all(c["ok"] for c in report["checks"])
    assert {"deploy root", "db data"} <= set(report["host"]["disk_free_gb"])
    assert report["release"]["live"] == stack.current()
    assert report["release"]["last_deploy"]["status"] == "live"
    assert web["restarts"] == 0 and report["queues"] == []

    # the running services' own output, through the log viewer
    logs = stack.cli("logs", "all", "--json", "-n", "0").stdout.splitlines()
    entries = [json.loads(line) for line in logs]
    assert {"db", "backend-api", "relay-ws"} <= {e["source"] for e in entries}
    assert any(e["kind"] == "deployflow" and e["source"] == "pwa-web" for e in entries)

    # a restart after the release went live is counted; a job queue is counted and graded
    stack.cli("services", "restart", "backend-api")
    stack.sql("CREATE TABLE jobs (id INT PRIMARY KEY)")
    stack.sql("CREATE TABLE failed_jobs (id INT PRIMARY KEY)")
    stack.sql("INSERT INTO jobs VALUES (1), (2), (3)")
    stack.sql("INSERT INTO failed_jobs VALUES (1)")
    stack.edit(
        "    migrations: {database: main",
        "    queue: {database: main}\n    migrations: {database: main",
    )
    code, report = _health(stack)
    assert code == 0, report
    assert {s["name"]: s for s in report["services"]}["backend-api"]["restarts"] == 1
    assert report["queues"] == [
        {"app": "backend", "pending": 3, "failed": 1, "error": None, "grade": "ok", "reasons": []}
    ]
    stack.edit("{cpu: null, response_ms: null}}", "{cpu: null, response_ms: null, failed_jobs: 0}}")
    code, report = _health(stack)
    assert code == 1 and report["queues"][0]["reasons"] == ["1 failed jobs > 0"]
    wide = {**stack.env, "COLUMNS": "200"}
    assert "3 pending" in stack.cli_env(wide, "health", check=False).stdout
    stack.sql("DROP TABLE failed_jobs")
    code, report = _health(stack)
    assert code == 1 and "failed_jobs" in report["queues"][0]["error"]

    # a threshold crossed: degraded, the row says why
    stack.edit("failed_jobs: 0}}", "memory_mb: 1}}")
    code, report = _health(stack)
    assert code == 1 and report["verdict"] == "degraded"
    assert any("memory" in r for s in report["services"] for r in s["reasons"])

    # a service stopped: down, and the table says so
    stack.cli("services", "stop", "pwa-web")
    code, report = _health(stack)
    assert code == 2 and report["verdict"] == "down"
    assert [c for c in report["checks"] if not c["ok"]]  # the PWA's checks fail
    assert not {s["name"]: s for s in report["services"]}["pwa-web"]["running"]
    table = stack.cli_env(wide, "health", check=False)
    assert table.returncode == 2 and "DOWN" in table.stdout and "stopped" in table.stdout

    assert stack.cli("health", "--interval", "0", check=False).returncode == 2
