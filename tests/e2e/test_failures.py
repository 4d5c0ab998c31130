"""Bad input and failures: one red line, non-zero exit, no traceback, previous release live,
nothing half-written. Also the one-app flow, config sync and the services commands."""

from __future__ import annotations

import json
import os
import socket

from tests.e2e.conftest import Stack

PWA_STEPS = 'steps: [["{{ sys.python }}", build.py]]'


def _one_error_line(stderr: str) -> str:
    assert "Traceback" not in stderr
    errors = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, stderr[-2000:]
    return errors[0]


def test_failed_build_touches_nothing_live(stack: Stack) -> None:
    stack.cli("run", "full")
    v1 = stack.current()
    pids = {
        s["name"]: s["pid"] for s in json.loads(stack.cli("services", "status", "--json").stdout)
    }
    relay_env = stack.root / "current" / "relay" / ".env"
    before = relay_env.read_text()
    template = stack.dir / "templates" / "relay.env.j2"
    template.write_text(template.read_text() + "RELAY_MODE=changed\n")
    stack.edit(PWA_STEPS, 'steps: [["{{ sys.python }}", -c, "raise SystemExit(3)"]]')
    proc = stack.cli("run", "full", check=False)
    assert proc.returncode == 1
    line = _one_error_line(proc.stderr)
    assert "apps.pwa build step 1 failed" in line and f"live: {v1}" in line
    assert stack.current() == v1 and stack.health()["release"] == v1
    assert relay_env.read_text() == before  # configs switch only with the release
    after = {
        s["name"]: s["pid"] for s in json.loads(stack.cli("services", "status", "--json").stdout)
    }
    assert after == pids  # a failure before the stop stage restarts nothing
    summary = json.loads(stack.cli("run", "full", "--json", check=False).stdout)
    rollback = next(s for s in summary["stages"] if s["name"] == "rollback")
    assert rollback["detail"] == "nothing live was touched" and summary["result"] == "failed"
    assert [r["status"] for r in stack.releases()].count("failed") == 2


def test_port_taken_by_someone_else_stops_at_preflight(stack: Stack) -> None:
    with socket.socket() as squatter:
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        squatter.bind(("127.0.0.1", int(stack.var("BACKEND_PORT"))))
        squatter.listen()
        proc = stack.cli("run", "full", check=False)
    assert proc.returncode == 1
    line = _one_error_line(proc.stderr)
    port = stack.var("BACKEND_PORT")
    assert (
        f"port {port}: taken by another process; stop it or give backend-api another port" in line
    )
    assert not (stack.root / "current").exists()
    assert not (stack.root / "releases").exists()


def test_missing_template_and_malformed_stack(stack: Stack) -> None:
    (stack.dir / "templates" / "relay.env.j2").unlink()
    proc = stack.cli("preflight", check=False)
    assert proc.returncode == 1
    assert "relay.env.j2 not found" in proc.stdout
    _one_error_line(proc.stderr)
    stack.file.write_text(
        "project: woosoo\napps: {backend: {source: x, bogus: 1}}\npaths: {root: x}\n"
    )
    proc = stack.cli("run", "full", check=False)
    assert proc.returncode == 2
    assert _one_error_line(proc.stderr) == (
        "error: deployflow.yaml: apps.backend.bogus: unknown key (check its spelling and section)"
    )


def test_app_deploy_config_sync_and_services(stack: Stack) -> None:
    stack.edit("keep_minimum: 5, older_than: 30d", "keep_minimum: 1, older_than: 0m")
    stack.cli("run", "full")
    v1 = stack.current()
    status = {s["name"]: s for s in json.loads(stack.cli("services", "status", "--json").stdout)}
    assert all(s["running"] for s in status.values()) and set(status) >= {"db", "backend-api"}

    # one app: only the backend is rebuilt and restarted; pwa and relay keep running untouched
    stack.set_version("backend", "1.1.0")
    summary = json.loads(stack.cli("run", "app", "backend", "--json").stdout)
    assert summary["apps"] == ["backend"] and stack.health()["version"] == "1.1.0"
    after = {s["name"]: s for s in json.loads(stack.cli("services", "status", "--json").stdout)}
    assert after["pwa-web"]["pid"] == status["pwa-web"]["pid"]
    assert after["backend-api"]["pid"] != status["backend-api"]["pid"]
    assert (stack.root / "releases" / summary["release"] / "pwa" / "dist" / "index.html").exists()
    assert {r["id"] for r in stack.releases()} == {v1, summary["release"]}
    backups = [p.name for p in (stack.root / "backups").iterdir()]
    assert backups == [summary["release"]]  # retention kept the newest one only
    assert os.readlink(stack.root / "releases" / summary["release"] / "pwa") == f"../{v1}/pwa"

    # config sync: dry run shows a masked diff and writes nothing; then a real sync backs up first
    env_file = stack.root / "current" / "backend" / ".env"
    password = next(
        x.split("=", 1)[1]
        for x in env_file.read_text().splitlines()
        if x.startswith("DB_PASSWORD=")
    )
    template = stack.dir / "templates" / "backend.env.j2"
    template.write_text(template.read_text() + "CACHE_DRIVER=redis\n")
    before = env_file.read_text()
    dry = stack.cli("config", "sync", "--dry-run", "--apps", "backend")
    assert "+CACHE_DRIVER=redis" in dry.stdout and password not in dry.stdout + dry.stderr
    assert "DB_PASSWORD=********" in dry.stdout or "DB_PASSWORD" not in dry.stdout
    assert env_file.read_text() == before
    plan = stack.cli("run", "full", "--dry-run").stdout
    assert "dry run: nothing was changed" in plan and password not in plan
    assert "tests.py" in plan and "{{" not in plan
    live_before = stack.current()
    stack.cli("config", "sync", "--apps", "backend")  # a config-only release, verified
    assert stack.current() != live_before and stack.health()["status"] == "ok"
    assert "CACHE_DRIVER=redis" in env_file.read_text()
    assert oct(env_file.stat().st_mode & 0o777) == "0o600"
    assert (
        "CACHE_DRIVER"
        not in (stack.root / "releases" / live_before / "backend" / ".env").read_text()
    )
    stack.cli("rollback")  # and it rolls back like any release
    assert stack.current() == live_before and "CACHE_DRIVER" not in env_file.read_text()

    # services restart gives a new pid and the app still answers
    stack.cli("services", "restart", "backend-api")
    final = {s["name"]: s for s in json.loads(stack.cli("services", "status", "--json").stdout)}
    assert (
        final["backend-api"]["running"]
        and final["backend-api"]["pid"] != after["backend-api"]["pid"]
    )
    assert stack.health()["status"] == "ok"


def test_failed_first_deploy_leaves_nothing_live(stack: Stack) -> None:
    stack.edit(PWA_STEPS, 'steps: [["{{ sys.python }}", -c, "raise SystemExit(3)"]]')
    proc = stack.cli("run", "full", check=False)
    assert proc.returncode == 1
    assert "live: none" in _one_error_line(proc.stderr)
    assert not (stack.root / "current").exists()
    assert not (stack.root / "shared" / "configs").exists()  # configs live only in releases
    assert [r["status"] for r in stack.releases()] == ["failed"]
    status = {
        s["name"]: s["running"]
        for s in json.loads(stack.cli("services", "status", "--json").stdout)
    }
    assert status == {"db": True, "backend-api": False, "pwa-web": False, "relay-ws": False}
