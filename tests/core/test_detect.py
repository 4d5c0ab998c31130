"""Detection on trees shaped like public starters, held in memory (pure: no disk): each
decision, its reason, and one clear error when nothing (or two things) match. The walk of a real
directory (a symlink loop, a big file) is tests/backends/test_sourcetree.py."""

from __future__ import annotations

import pytest

from deployflow.core.detect import ProjectDetectionError, Tree, detect
from tests.appshapes import SHAPES


def _plan(shape: str, **more: str):
    return detect(Tree.of({**SHAPES[shape], **more}))


def test_flask_tutorial() -> None:
    plan = _plan("flask")
    assert (plan.kind, plan.framework) == ("python", "flask")
    assert plan.start[-2:] == ["--call", "flaskr:create_app"] and "--port={{ PORT }}" in plan.start
    assert plan.shared == ["instance/"] and plan.sqlite == "instance/flaskr.sqlite"
    assert plan.recipe == "python" and plan.python == {"with": ["waitress"], "extras": ["test"]}
    assert plan.tests == [[".venv/bin/python", "-m", "pytest", "-q"]]  # its test extra has pytest
    assert "python: pyproject.toml -> its dependencies into .venv" in plan.reasons[0]
    assert any("create_app" in line for line in plan.reasons)


def test_django_starter() -> None:
    plan = _plan("django")
    assert plan.framework == "django"
    assert plan.start[1:] == ["-m", "gunicorn", "mysite.wsgi", "--bind", "127.0.0.1:{{ PORT }}"]
    assert plan.release == [[".venv/bin/python", "manage.py", "migrate", "--no-input"]]
    assert plan.health == "/admin/login/" and plan.sqlite == "db.sqlite3"
    assert "django: manage.py -> release `manage.py migrate --no-input`" in plan.reasons[-1]


def test_express_hello_world() -> None:
    plan = _plan("express")
    assert (plan.kind, plan.framework) == ("node", "express")
    assert plan.deps == {
        "inputs": ["package.json", "package-lock.json"],
        "steps": [["npm", "ci"]],
        "paths": ["node_modules"],
    }
    assert plan.build == [] and plan.start == ["npm", "start"]


def test_go_server() -> None:
    plan = _plan("go")
    assert plan.build == [["go", "build", "-o", "bin/app", "."]] and plan.start == ["./bin/app"]
    assert plan.framework == "net/http" and plan.warnings == []
    required = _plan("go", **{"go.mod": "module x\n\nrequire github.com/a/b v1.0.0\n"})
    assert "module proxy" in required.warnings[0]


def test_static_site_fastapi_and_wsgi() -> None:
    static = _plan("static")
    assert static.kind == "static" and "http.server" in static.start
    fast = _plan("fastapi")
    assert fast.framework == "fastapi" and "app.main:app" in fast.start
    assert fast.release == [[".venv/bin/python", "-m", "alembic", "upgrade", "head"]]
    wsgi = _plan("wsgi")
    assert wsgi.framework == "wsgi" and wsgi.start[-1] == "wsgi:application"


def test_procfile_and_app_json_win() -> None:
    procfile = (
        "web: gunicorn -b 127.0.0.1:$PORT 'flaskr:create_app()'\n"
        "worker: python -m flaskr.jobs\nrelease: flask --app flaskr init-db\n"
    )
    app_json = '{"env": {"MODE": {"value": "prod"}}}'
    plan = _plan("flask", Procfile=procfile, **{"app.json": app_json})
    assert plan.start == ["gunicorn", "-b", "127.0.0.1:{{ PORT }}", "flaskr:create_app()"]
    assert plan.workers == {"worker": ["python", "-m", "flaskr.jobs"]}
    assert plan.release == [["flask", "--app", "flaskr", "init-db"]] and plan.env == {
        "MODE": "prod"
    }


def test_a_procfile_web_line_settles_an_unknown_python_app() -> None:
    bare = {"requirements.txt": "waitress\n"}
    assert "Procfile web:" in detect(Tree.of(bare)).warnings[0]
    web = "web: .venv/bin/python -m waitress --port=${PORT} x:y\n"
    plan = detect(Tree.of({**bare, "Procfile": web}))
    assert plan.warnings == [] and plan.start[-2] == "--port={{ PORT }}"


def test_nothing_or_two_things_is_one_clear_error() -> None:
    with pytest.raises(ProjectDetectionError, match="<memory>: no app detected"):
        detect(Tree.of({"notes.txt": "nothing to run\n"}))
    with pytest.raises(ProjectDetectionError, match="node and go at once"):
        detect(Tree.of({**SHAPES["express"], **SHAPES["go"]}))
