"""Detection on trees shaped like public starters: each decision, its reason, and one clear
error when nothing (or two things) match; a symlink loop or a big file cannot hang it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from deployflow.core.detect import ProjectDetectionError, detect
from tests.appshapes import write_shape


def test_flask_tutorial(tmp_path: Path) -> None:
    plan = detect(write_shape(tmp_path, "flask"))
    assert (plan.kind, plan.framework) == ("python", "flask")
    assert plan.start[-2:] == ["--call", "flaskr:create_app"] and "--port={{ PORT }}" in plan.start
    assert plan.shared == ["instance/"] and plan.sqlite == "instance/flaskr.sqlite"
    assert plan.recipe == "python" and plan.python == {"with": ["waitress"], "extras": ["test"]}
    assert plan.tests == [[".venv/bin/python", "-m", "pytest", "-q"]]  # its test extra has pytest
    assert "python: pyproject.toml -> its dependencies into .venv" in plan.reasons[0]
    assert any("create_app" in line for line in plan.reasons)


def test_django_starter(tmp_path: Path) -> None:
    plan = detect(write_shape(tmp_path, "django"))
    assert plan.framework == "django"
    assert plan.start[1:] == ["-m", "gunicorn", "mysite.wsgi", "--bind", "127.0.0.1:{{ PORT }}"]
    assert plan.release == [[".venv/bin/python", "manage.py", "migrate", "--no-input"]]
    assert plan.health == "/admin/login/" and plan.sqlite == "db.sqlite3"
    assert "django: manage.py -> release `manage.py migrate --no-input`" in plan.reasons[-1]


def test_express_hello_world(tmp_path: Path) -> None:
    plan = detect(write_shape(tmp_path, "express"))
    assert (plan.kind, plan.framework) == ("node", "express")
    assert plan.deps == {
        "inputs": ["package.json", "package-lock.json"],
        "steps": [["npm", "ci"]],
        "paths": ["node_modules"],
    }
    assert plan.build == [] and plan.start == ["npm", "start"]


def test_go_server(tmp_path: Path) -> None:
    plan = detect(write_shape(tmp_path, "go"))
    assert plan.build == [["go", "build", "-o", "bin/app", "."]] and plan.start == ["./bin/app"]
    assert plan.framework == "net/http" and plan.warnings == []
    (tmp_path / "go.mod").write_text("module x\n\nrequire github.com/a/b v1.0.0\n")
    assert "module proxy" in detect(tmp_path).warnings[0]


def test_static_site_fastapi_and_wsgi(tmp_path: Path) -> None:
    static = detect(write_shape(tmp_path / "s", "static"))
    assert static.kind == "static" and "http.server" in static.start
    fast = detect(write_shape(tmp_path / "f", "fastapi"))
    assert fast.framework == "fastapi" and "app.main:app" in fast.start
    assert fast.release == [[".venv/bin/python", "-m", "alembic", "upgrade", "head"]]
    wsgi = detect(write_shape(tmp_path / "w", "wsgi"))
    assert wsgi.framework == "wsgi" and wsgi.start[-1] == "wsgi:application"


def test_procfile_and_app_json_win(tmp_path: Path) -> None:
    write_shape(tmp_path, "flask")
    (tmp_path / "Procfile").write_text(
        "web: gunicorn -b 127.0.0.1:$PORT 'flaskr:create_app()'\n"
        "worker: python -m flaskr.jobs\nrelease: flask --app flaskr init-db\n"
    )
    (tmp_path / "app.json").write_text('{"env": {"MODE": {"value": "prod"}}}')
    plan = detect(tmp_path)
    assert plan.start == ["gunicorn", "-b", "127.0.0.1:{{ PORT }}", "flaskr:create_app()"]
    assert plan.workers == {"worker": ["python", "-m", "flaskr.jobs"]}
    assert plan.release == [["flask", "--app", "flaskr", "init-db"]] and plan.env == {
        "MODE": "prod"
    }


def test_a_procfile_web_line_settles_an_unknown_python_app(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("waitress\n")
    assert "Procfile web:" in detect(tmp_path).warnings[0]
    (tmp_path / "Procfile").write_text("web: .venv/bin/python -m waitress --port=${PORT} x:y\n")
    plan = detect(tmp_path)
    assert plan.warnings == [] and plan.start[-2] == "--port={{ PORT }}"


def test_nothing_or_two_things_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("nothing to run\n")
    with pytest.raises(ProjectDetectionError, match="no app detected"):
        detect(tmp_path)
    write_shape(tmp_path, "express")
    write_shape(tmp_path, "go")
    with pytest.raises(ProjectDetectionError, match="node and go at once"):
        detect(tmp_path)


def test_a_link_loop_and_a_big_file_do_not_hang_it(tmp_path: Path) -> None:
    write_shape(tmp_path, "static")
    os.symlink(tmp_path, tmp_path / "loop")
    with open(tmp_path / "big.bin", "wb") as handle:
        handle.truncate(2 << 30)  # 2 GB, sparse
    (tmp_path / "node_modules" / "x").mkdir(parents=True)
    assert detect(tmp_path).kind == "static"
