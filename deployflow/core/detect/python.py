"""Python apps: requirements.txt, pyproject.toml (uv.lock, poetry.lock) or setup.py; Django,
Flask, FastAPI, plain WSGI/ASGI; Alembic migrations as the release phase."""

from __future__ import annotations

import re
import tomllib

from deployflow.core.detect.files import Tree
from deployflow.core.detect.plan import Plan
from deployflow.core.recipes import VENV_PY

__all__ = ["detect"]


def _deps(tree: Tree) -> str:
    """Every dependency declaration, lower-cased, to look names up in."""
    return "\n".join(
        tree.text(f) for f in ("requirements.txt", "pyproject.toml", "setup.py", "setup.cfg")
    ).lower()


def _needs(deps: str, name: str) -> bool:
    return (
        re.search(rf"(^|[\s\"'\[,]){re.escape(name)}([\s\"'<>=~!;\[\],]|$)", deps, re.M) is not None
    )


def _install(tree: Tree, plan: Plan, servers: list[str], deps: str) -> None:
    """`recipe: python`: a .venv keyed on the dependency files, reused by code changes."""
    plan.recipe = "python"
    if tree.has("pyproject.toml") and tree.has("uv.lock"):
        inputs = ["pyproject.toml", "uv.lock"]
        plan.why("python: uv.lock -> uv sync --frozen --no-install-project into .venv")
    else:
        marker = next(f for f in ("requirements.txt", "pyproject.toml", "setup.py") if tree.has(f))
        inputs = [marker]
        locks = [f for f in ("poetry.lock",) if tree.has(f)]
        plan.why(
            f"python: {marker}"
            + (f" ({', '.join(locks)} seen)" if locks else "")
            + f" -> its dependencies into .venv (uv pip install -r {marker})"
        )
    missing = [s for s in servers if not _needs(deps, s)]
    if missing:
        plan.python = {"with": missing}
        plan.why(f"python: {', '.join(missing)} added to serve it (not in its dependencies)")
    plan.why(
        "python: .venv rebuilt only when "
        + " or ".join(inputs)
        + (" change" if len(inputs) > 1 else " changes")
        + "; the project's "
        "own code runs from the release dir, not site-packages"
    )


def _django(tree: Tree, plan: Plan, deps: str) -> None:
    match = re.search(
        r"DJANGO_SETTINGS_MODULE['\"]\s*,\s*['\"]([\w.]+)\.settings", tree.text("manage.py")
    )
    module = match.group(1) if match else None
    if module is None or not tree.has(f"{module}/wsgi.py"):
        candidates = [f.split("/")[0] for f in tree.glob("/wsgi.py", depth=2)]
        module = candidates[0] if candidates else None
    plan.framework = "django"
    _install(tree, plan, ["gunicorn"], deps)
    if module is None:
        plan.warnings.append("django: no <project>/wsgi.py found; set the web command yourself")
    else:
        plan.start = [VENV_PY, "-m", "gunicorn", f"{module}.wsgi", "--bind", "127.0.0.1:{{ PORT }}"]
    plan.release.append([VENV_PY, "manage.py", "migrate", "--no-input"])
    settings = tree.text(f"{module}/settings.py") if module else ""
    if "STATIC_ROOT" in settings:
        plan.build.append([VENV_PY, "manage.py", "collectstatic", "--no-input"])
    if "db.sqlite3" in settings:
        plan.shared.append("db.sqlite3")
        plan.sqlite = "db.sqlite3"
    plan.health = "/admin/login/"
    plan.why(
        f"django: manage.py -> release `manage.py migrate --no-input`, web via gunicorn "
        f"{module or '<module>'}.wsgi"
        + (", collectstatic at build (STATIC_ROOT set)" if "STATIC_ROOT" in settings else "")
        + (", db.sqlite3 kept in the shared dir" if plan.sqlite else "")
        + ", checked at /admin/login/"
    )


def _flask(tree: Tree, plan: Plan, deps: str) -> None:
    factory = next(
        (f for f in tree.glob("/__init__.py", depth=2) if "def create_app" in tree.text(f)), None
    )
    plan.framework = "flask"
    _install(tree, plan, ["waitress"], deps)
    if factory is not None:
        package = factory.split("/")[0]
        target = f"{package}:create_app"
        plan.start = [VENV_PY, "-m", "waitress", "--host=127.0.0.1", "--port={{ PORT }}"]
        plan.start += ["--call", target]
        plan.shared.append("instance/")  # Flask's instance folder: config, SQLite files
        named = re.search(r"[\"']([\w-]+\.sqlite3?)[\"']", tree.text(factory))
        if named:
            plan.sqlite = f"instance/{named.group(1)}"
        plan.why(
            f"flask: {factory} defines create_app -> web via waitress --call {target}; "
            "instance/ kept in the shared dir (no release command: Flask has no standard one)"
        )
        return
    module = next((m for m in ("app", "wsgi", "main") if "Flask(" in tree.text(f"{m}.py")), "app")
    plan.start = [VENV_PY, "-m", "waitress", "--host=127.0.0.1", "--port={{ PORT }}"]
    plan.start += [f"{module}:app"]
    plan.why(f"flask: {module}.py creates Flask(...) -> web via waitress {module}:app")


def _fastapi(tree: Tree, plan: Plan, deps: str) -> None:
    candidates = ("main", "app/main", "app", "asgi", "src/main")
    module = next((m for m in candidates if "FastAPI(" in tree.text(f"{m}.py")), "main")
    plan.framework = "fastapi"
    _install(tree, plan, ["uvicorn"], deps)
    dotted = module.replace("/", ".")
    plan.start = [VENV_PY, "-m", "uvicorn", f"{dotted}:app", "--host", "127.0.0.1"]
    plan.start += ["--port", "{{ PORT }}"]
    plan.why(f"fastapi: {module}.py -> web via uvicorn {dotted}:app")


def _wsgi(tree: Tree, plan: Plan, deps: str) -> bool:
    for module in ("wsgi", "app", "main"):
        text = tree.text(f"{module}.py")
        name = next(
            (n for n in ("application", "app") if re.search(rf"^{n}\s*=", text, re.M)), None
        )
        if name is None:
            name = "application" if re.search(r"^def application\(", text, re.M) else None
        if name:
            plan.framework = "wsgi"
            _install(tree, plan, ["waitress"], deps)
            plan.start = [VENV_PY, "-m", "waitress", "--host=127.0.0.1", "--port={{ PORT }}"]
            plan.start += [f"{module}:{name}"]
            plan.why(f"wsgi: {module}.py defines {name} -> web via waitress {module}:{name}")
            return True
    return False


def _pytest_from(tree: Tree) -> tuple[str, str] | None:
    """Where pyproject.toml declares pytest: ("extras" | "groups", its name)."""
    try:
        project = tomllib.loads(tree.text("pyproject.toml"))
    except tomllib.TOMLDecodeError:
        return None
    for key, table in (
        ("extras", project.get("project", {}).get("optional-dependencies", {})),
        ("groups", project.get("dependency-groups", {})),
    ):
        for name, reqs in table.items() if isinstance(table, dict) else ():
            if any(isinstance(r, str) and re.match(r"pytest\b", r) for r in reqs):
                return key, name
    return None


def _tests(tree: Tree, plan: Plan, deps: str) -> None:
    """A tests/ dir and pytest declared: the tests stage runs it (with its extra or group)."""
    if not {"tests", "test"} & tree.dirs:
        return
    where = _pytest_from(tree) if tree.has("pyproject.toml") else None
    if where is None and not _needs(deps, "pytest"):
        plan.why("python: tests/ seen but pytest is not declared; add `tests:` to run them")
        return
    if where is not None:
        plan.python = {**(plan.python or {}), where[0]: [where[1]]}
    plan.tests.append([VENV_PY, "-m", "pytest", "-q"])
    plan.why(
        "python: tests/ and pytest"
        + (f" (the {where[1]!r} {where[0][:-1]})" if where else "")
        + " -> the tests stage runs `python -m pytest -q` in the new release"
    )


def _alembic(tree: Tree, plan: Plan) -> None:
    if tree.has("alembic.ini"):
        plan.release.append([VENV_PY, "-m", "alembic", "upgrade", "head"])
        plan.why("alembic: alembic.ini -> release `alembic upgrade head`")


def detect(tree: Tree) -> Plan | None:
    markers = [f for f in ("requirements.txt", "pyproject.toml", "setup.py") if tree.has(f)]
    if not markers and not (tree.has("manage.py") or tree.has("Pipfile")):
        return None
    plan = Plan(kind="python")
    deps = _deps(tree)
    if tree.has("manage.py"):
        _django(tree, plan, deps)
    elif _needs(deps, "flask"):
        _flask(tree, plan, deps)
    elif _needs(deps, "fastapi"):
        _fastapi(tree, plan, deps)
    elif not _wsgi(tree, plan, deps):
        _install(tree, plan, [], deps)
        plan.warnings.append(
            "python: no web framework recognised; add the web command (a Procfile web: line)"
        )
    if plan.recipe:
        _tests(tree, plan, deps)
    _alembic(tree, plan)
    version = tree.text(".python-version").strip()
    if version:
        plan.runtime = ("python", version)
    return plan
