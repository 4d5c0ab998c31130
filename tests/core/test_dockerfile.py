"""Generated Dockerfiles as data: per kind the runtime's Debian packages, the dependency step
before the code (its layer cached across code-only changes), the build steps, the start command
on $PORT on every interface, the host's CAs trusted; no secret can get in (none is an input)."""

from __future__ import annotations

import pytest

from deployflow.core.detect import Tree, detect
from deployflow.core.dockerfile import image_recipe, render_dockerfile
from tests.appshapes import SHAPES

BASE = "deployflow/debian:bookworm"


def _dockerfile(shape: str) -> str:
    files = SHAPES[shape]
    plan = detect(Tree.of(files))
    return render_dockerfile(image_recipe(plan, {rel.split("/")[0] for rel in files}, 8100), BASE)


def test_python_deps_before_the_code() -> None:
    text = _dockerfile("flask")
    lines = text.splitlines()
    assert lines[1] == f"FROM {BASE}" and "python3 python3-venv ca-certificates" in text
    deps = lines.index("COPY pyproject.toml ./")
    assert deps < lines.index("COPY . .")  # code-only changes keep the dependency layer
    assert "uv pip install -q --python .venv/bin/python -r pyproject.toml" in lines[deps + 1]
    assert "waitress" in lines[deps + 2]
    assert lines[-1] == (
        'CMD exec .venv/bin/python -m waitress --host=0.0.0.0 "--port=$PORT" '
        "--call flaskr:create_app"
    )
    assert "ENV PORT=8100" in lines and "RUN update-ca-certificates >/dev/null" in lines


def test_node_go_static() -> None:
    node = _dockerfile("express")
    assert "COPY package.json package-lock.json ./\nRUN npm ci\nCOPY . ." in node
    assert node.rstrip().endswith("CMD exec npm start") and "nodejs npm" in node
    go = _dockerfile("go")
    assert "RUN go build -o bin/app .\n" in go and go.rstrip().endswith("CMD exec ./bin/app")
    static = _dockerfile("static")
    assert 'python3 -m http.server "$PORT" --bind 0.0.0.0' in static


def test_a_plan_without_a_start_has_no_template() -> None:
    plan = detect(Tree.of({"requirements.txt": "requests\n"}))
    with pytest.raises(ValueError, match="no container template"):
        image_recipe(plan, {"requirements.txt"}, 8000)
