"""Git sources: a local repository as `source: {git: ../repo, ref: main}`. Each deploy fetches
the mirror and builds the resolved commit (recorded with its author and subject), `--ref` and a
webhook's exact SHA choose another, a rollback finds a release by SHA prefix, and a bad ref or
URL is one line with nothing written to the root. Read back from what is served."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from deployflow.errors import BuildError
from deployflow.loading import load_stack
from deployflow.ops.deploy import deploy
from deployflow.ops.deployrun import DeployOptions
from deployflow.ops.rollback import rollback
from deployflow.ops.runner import PlainRunner
from tests.e2e.conftest import stop_everything
from tests.gitrepo import commit
from tests.tinystack import write_tiny_stack


@pytest.fixture
def base(tmp_path: Path) -> Iterator[Path]:
    port = write_tiny_stack(tmp_path / "stack", "gitsrc", "")
    repo = tmp_path / "repo"
    (tmp_path / "stack" / "app").rename(repo)
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    text = (tmp_path / "stack" / "deployflow.yaml").read_text()
    text = text.replace("    source: app", "    source: {git: ../repo, ref: main}")
    (tmp_path / "stack" / "deployflow.yaml").write_text(text)
    (tmp_path / "port").write_text(str(port))
    yield tmp_path
    stop_everything(tmp_path / "stack" / "root")


def _deploy(base: Path, **options: str) -> dict:
    ctx = load_stack(base / "stack" / "deployflow.yaml", base / "stack" / "root")
    return deploy(ctx, DeployOptions(**options), PlainRunner(lambda _line: None))


def _serving(base: Path) -> str:
    return httpx.get(f"http://127.0.0.1:{(base / 'port').read_text()}/", timeout=5).text


def test_git_sources_build_the_commit_asked_for(base: Path) -> None:
    repo = base / "repo"
    v1 = commit(repo, "v1")
    first = _deploy(base)
    assert _serving(base) == "v1"
    recorded = first["commits"]["web"]
    assert recorded == {
        "sha": v1,
        "ref": "main",
        "author": "Dev <dev@example.com>",
        "subject": "release v1",
    }

    v2 = commit(repo, "v2")
    _deploy(base)
    assert _serving(base) == "v2"
    _deploy(base, ref=v1[:10])  # --ref: a SHA prefix, a tag or a branch
    assert _serving(base) == "v1"
    _deploy(base, revision=v2, ref="nope")  # a webhook's exact SHA wins
    assert _serving(base) == "v2"

    ctx = load_stack(base / "stack" / "deployflow.yaml", base / "stack" / "root")
    back = rollback(ctx, v1[:7], PlainRunner(lambda _line: None))
    assert _serving(base) == "v1" and back["live"] == back["release"]

    releases = sorted((base / "stack" / "root" / "releases").iterdir())
    with pytest.raises(BuildError, match="ref 'no-such-branch' is not in the repository"):
        _deploy(base, ref="no-such-branch")
    text = (base / "stack" / "deployflow.yaml").read_text()
    (base / "stack" / "deployflow.yaml").write_text(text.replace("../repo", "../missing"))
    with pytest.raises(BuildError, match="cannot fetch"):
        _deploy(base)
    assert sorted((base / "stack" / "root" / "releases").iterdir()) == releases
