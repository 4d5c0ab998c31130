"""Issue 28 defect 2: a config rendered into a shared dir (`shared: [instance/]` with a config
dest under `instance/`) is staged with its release and swapped in at switch: a deploy refused
by its tests leaves the live one in place, a good deploy installs its own, a rollback puts the
earlier release's back."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import Stack, stop_everything, write_tiny_stack

APP = """\
    shared: [instance/]
    configs: [{template: config.j2, dest: instance/config.txt}]
    tests: [["sh", "-c", "test ! -e FAIL"]]"""


@pytest.fixture
def shared(tmp_path: Path, prefect_api: str) -> Iterator[Stack]:
    write_tiny_stack(tmp_path, "sharedcfg", APP)
    (tmp_path / "config.j2").write_text("greeting={{ GREETING }}\n")
    s = Stack(tmp_path / "deployflow.yaml", tmp_path / "root", {})
    s.env = {**os.environ, "PREFECT_API_URL": prefect_api, "GREETING": "hello"}
    s.env["DEPLOYFLOW_HOME"] = str(tmp_path / "home")
    s.env.pop("DEPLOYFLOW_ROOT", None)
    s.edit('vars: {PORT: "', 'vars: {GREETING: {secret: GREETING}, PORT: "')
    yield s
    stop_everything(s.root)


def _live_config(s: Stack) -> str:
    return (s.root / "shared" / "web" / "instance" / "config.txt").read_text()


def test_a_config_in_a_shared_dir_goes_live_at_switch_only(shared: Stack) -> None:
    shared.cli("run", "full")
    assert _live_config(shared) == "greeting=hello\n"
    first = shared.current()

    (shared.dir / "app" / "FAIL").write_text("")  # the next release fails its tests
    env = {**shared.env, "GREETING": "refused"}
    proc = shared.cli_env(env, "run", "full", check=False)
    assert proc.returncode == 1 and shared.current() == first
    assert _live_config(shared) == "greeting=hello\n"  # not the refused release's

    (shared.dir / "app" / "FAIL").unlink()
    shared.cli_env({**shared.env, "GREETING": "bonjour"}, "run", "full")
    assert _live_config(shared) == "greeting=bonjour\n" and shared.current() != first

    shared.cli("rollback")
    assert shared.current() == first and _live_config(shared) == "greeting=hello\n"
