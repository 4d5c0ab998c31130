"""`deployflow exec`: a one-off command in the live release with the app's environment (its
env_file with a secret, `PORT` as its service has it), output straight through, the exit code
passed back, an audit line with the secret masked; and `PORT` in the service's own environ."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from deployflow.errors import ReleaseError, StackError
from deployflow.loading import load_stack
from deployflow.ops.deploy import deploy
from deployflow.ops.deployrun import DeployOptions
from deployflow.ops.oneoff import exec_in_release
from deployflow.ops.runner import PlainRunner
from tests.e2e.conftest import stop_everything
from tests.tinystack import write_tiny_stack

APP = """\
    configs: [{template: env.j2, dest: .env, mode: "0600"}]
    env_file: .env"""


@pytest.fixture
def base(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    port = write_tiny_stack(tmp_path, "oneoff", APP)
    text = (tmp_path / "deployflow.yaml").read_text()
    text = text.replace('vars: {PORT: "', 'vars: {API_KEY: {secret: ONEOFF_KEY}, PORT: "')
    (tmp_path / "deployflow.yaml").write_text(text)
    (tmp_path / "env.j2").write_text("API_KEY={{ API_KEY }}\n")
    monkeypatch.setenv("ONEOFF_KEY", "key-Secret-31")
    tmp_path.joinpath("port").write_text(str(port))
    yield tmp_path
    stop_everything(tmp_path / "root")


def test_exec_runs_in_the_live_release_with_its_environment(
    base: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    ctx = load_stack(base / "deployflow.yaml", base / "root")
    with pytest.raises(ReleaseError, match="nothing is live yet"):
        exec_in_release(ctx, "web", ["true"])
    release = deploy(ctx, DeployOptions(), PlainRunner(lambda _l: None))["release"]
    code = "import os, sys; print(os.getcwd(), os.environ['API_KEY'], os.environ['RELEASE_ID'])"
    assert exec_in_release(ctx, "web", [sys.executable, "-c", code + "; sys.exit(3)"]) == 3
    out = capfd.readouterr().out.split()
    assert out == [str(base / "root" / "releases" / release / "web"), "key-Secret-31", release]
    with pytest.raises(StackError, match="unknown app 'nope'"):
        exec_in_release(ctx, "nope", ["true"])

    audit = [json.loads(line) for line in (base / "root" / ".deployflow" / "exec.jsonl").open()]
    assert [(a["app"], a["release"], a["exit"]) for a in audit] == [("web", release, 3)]

    # the CLI passes the code through; a secret on its command line is masked in the audit
    env = {**os.environ, "NO_COLOR": "1", "ONEOFF_KEY": "key-Secret-31"}
    argv = [
        sys.executable,
        "-m",
        "deployflow",
        "exec",
        "web",
        "--stack",
        str(base / "deployflow.yaml"),
    ]
    argv += ["--root", str(base / "root"), "--", "sh", "-c", "exit 5", "key-Secret-31"]
    assert subprocess.run(argv, env=env).returncode == 5
    last = json.loads((base / "root" / ".deployflow" / "exec.jsonl").read_text().splitlines()[-1])
    assert last["exit"] == 5 and "key-Secret-31" not in json.dumps(last)

    pid = json.loads((base / "root" / ".deployflow" / "run" / "web.pid").read_text())["pid"]
    environ = Path(f"/proc/{pid}/environ").read_text().split("\0")
    assert f"PORT={(base / 'port').read_text()}" in environ  # Procfile-style, for its service
