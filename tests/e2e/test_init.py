"""Issue 23, zero config: `deployflow init` on apps shaped like the Flask tutorial, a bare WSGI
app and a static site writes a stack that `deployflow run full` deploys with no edits: each
built, started on its own port, health-checked and printed with its URL; the Flask instance
folder lives in the shared dir, not in a virtualenv. Bad input is one line."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import httpx

from tests.appshapes import write_shape
from tests.e2e.conftest import stop_everything


def _cli(base: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    argv = [sys.executable, "-m", "deployflow", *args]
    return subprocess.run(argv, cwd=base, env=env, capture_output=True, text=True, timeout=600)


def test_init_then_run_full_deploys_starter_shaped_apps(tmp_path: Path, prefect_api: str) -> None:
    base = tmp_path / "shop"
    for folder, shape in (("flaskr", "flask"), ("api", "wsgi"), ("site", "static")):
        write_shape(base / folder, shape)
    (base / "empty").mkdir()
    env = {**os.environ, "PREFECT_API_URL": prefect_api, "NO_COLOR": "1"}
    env["DEPLOYFLOW_HOME"] = str(tmp_path / "home")
    env["DEPLOYFLOW_ROOT"] = str(tmp_path / "root")
    try:
        made = _cli(base, env, "init", "flaskr", "api", "site", "--json")
        assert made.returncode == 0, made.stderr
        apps = json.loads(made.stdout)["apps"]
        assert [(a["kind"], a["framework"]) for a in apps.values()] == [
            ("python", "flask"),
            ("python", "wsgi"),
            ("static", None),
        ]
        again = _cli(base, env, "init", "flaskr")
        assert again.returncode == 2 and "exists and is yours" in again.stderr
        nothing = _cli(base, env, "init", "empty", "--output", "other.yaml", "--force")
        assert nothing.returncode == 2 and "no app detected" in nothing.stderr
        assert not (base / "other.yaml").exists()

        deployed = _cli(base, env, "run", "full")
        assert deployed.returncode == 0, deployed.stdout[-3000:] + deployed.stderr[-3000:]
        urls = {a: f"http://127.0.0.1:{apps[a]['port']}/" for a in apps}
        assert all(url in deployed.stdout for url in urls.values()), deployed.stdout[-2000:]
        flask = httpx.get(urls["flaskr"]).text
        live = tmp_path / "root" / "current"
        assert flask.startswith("Flaskr, instance at ") and str(live.resolve()) in flask
        assert (tmp_path / "root" / "shared" / "flaskr" / "instance").is_dir()
        assert "1 test commands passed" in deployed.stdout  # pytest, from its test extra
        assert httpx.get(urls["api"]).text == "hello from wsgi"
        assert "Hello, static" in httpx.get(urls["site"]).text
    finally:
        stop_everything(tmp_path / "root")


def test_init_then_run_full_deploys_a_django_starter(tmp_path: Path, prefect_api: str) -> None:
    """Django from the package index (gunicorn added by init), `migrate` as the release phase
    into the shared db.sqlite3, checked at /admin/login/."""
    base = tmp_path / "mysite"
    write_shape(base, "django")
    env = {**os.environ, "PREFECT_API_URL": prefect_api, "NO_COLOR": "1"}
    env["DEPLOYFLOW_HOME"] = str(tmp_path / "home")
    env["DEPLOYFLOW_ROOT"] = str(tmp_path / "root")
    try:
        made = json.loads(_cli(base, env, "init", "--json").stdout)
        port = made["apps"]["web"]["port"]
        deployed = _cli(base, env, "run", "full")
        assert deployed.returncode == 0, deployed.stdout[-3000:] + deployed.stderr[-3000:]
        assert httpx.get(f"http://127.0.0.1:{port}/admin/login/").status_code == 200
        with sqlite3.connect(tmp_path / "root" / "shared" / "web" / "db.sqlite3") as conn:
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        assert {"django_migrations", "auth_user"} <= tables  # the release phase migrated
    finally:
        stop_everything(tmp_path / "root")


def test_init_then_run_full_deploys_express_and_go(tmp_path: Path, prefect_api: str) -> None:
    """An Express hello-world (express from the npm registry, its lock file made as `npm
    install` makes it: `npm ci` keyed on it) and a Go net/http server (standard library only,
    built with the machine's go) in one stack: both built, started on $PORT and answering."""
    base = tmp_path / "stack"
    write_shape(base / "hello", "express")
    write_shape(base / "gosrv", "go")
    (base / "hello" / "package-lock.json").unlink()
    locked = subprocess.run(
        ["npm", "install", "--package-lock-only", "--no-audit", "--no-fund"],
        cwd=base / "hello",
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert locked.returncode == 0, locked.stderr
    env = {**os.environ, "PREFECT_API_URL": prefect_api, "NO_COLOR": "1"}
    env["DEPLOYFLOW_HOME"] = str(tmp_path / "home")
    env["DEPLOYFLOW_ROOT"] = str(tmp_path / "root")
    try:
        made = _cli(base, env, "init", "hello", "gosrv", "--json")
        assert made.returncode == 0, made.stderr
        apps = json.loads(made.stdout)["apps"]
        assert [(a["kind"], a["framework"]) for a in apps.values()] == [
            ("node", "express"),
            ("go", "net/http"),
        ]
        deployed = _cli(base, env, "run", "full")
        assert deployed.returncode == 0, deployed.stdout[-3000:] + deployed.stderr[-3000:]
        urls = {a: f"http://127.0.0.1:{apps[a]['port']}/" for a in apps}
        assert all(url in deployed.stdout for url in urls.values()), deployed.stdout[-2000:]
        assert httpx.get(urls["hello"]).text == "Hello World!"
        assert httpx.get(urls["gosrv"]).text == "hi"
        live = (tmp_path / "root" / "current").resolve()
        assert (live / "hello" / "node_modules" / "express").is_dir()
        assert (live / "gosrv" / "bin" / "app").is_file()
    finally:
        stop_everything(tmp_path / "root")
