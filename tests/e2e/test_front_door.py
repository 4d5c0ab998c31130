"""Every way into a run takes the stack and root it is given, and every command takes the
shared options: `plan --save --root X` then `approve` and `execute` deploy into X (not the
stack's paths.root); a warm `run full --root Y` re-applies the deployments for Y (their
fingerprint changed) and runs on the worker there; a plan whose root vanished is refused at
`execute`; `--stack`/`--root` reach every command and are checked (one line, exit 2)."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator

import pytest

from tests.e2e.conftest import Stack, stop_everything, write_tiny_stack


@pytest.fixture(scope="module")
def door(tmp_path_factory: pytest.TempPathFactory, prefect_api: str) -> Iterator[Stack]:
    base = tmp_path_factory.mktemp("door")
    write_tiny_stack(base, "door", '    steps: [["true"]]')
    env = {**os.environ, "PREFECT_API_URL": prefect_api, "DEPLOYFLOW_HOME": str(base / "home")}
    env.pop("DEPLOYFLOW_ROOT", None)
    s = Stack(base / "deployflow.yaml", base / "root", env)
    started = s.cli("server", "start")  # the worker, and the deployments (none yet)
    assert "deployments missing for door" in started.stderr
    yield s
    s.cli("server", "stop", check=False)
    for root in (base / "root", base / "x", base / "y"):
        stop_everything(root)


def test_a_saved_plan_deploys_into_its_root(door: Stack) -> None:
    x = door.dir / "x"
    plan = json.loads(door.cli("plan", "--save", "--root", str(x), "--json").stdout)
    assert plan["root"] == str(x) and plan["per_target"]["local"]["root"] == str(x)
    door.cli("approve", plan["id"], "--root", str(x))  # the shared options: accepted
    done = door.cli("execute", plan["id"], "--json", "--root", str(x))
    assert json.loads(done.stdout)["result"] == "success", done.stderr[-2000:]
    assert (x / "current").is_symlink() and not door.root.exists()


def test_a_warm_run_follows_its_root(door: Stack) -> None:
    y = door.dir / "y"
    stop_everything(door.dir / "x")  # one port for both roots
    proc = door.cli("run", "full", "--root", str(y))
    assert "deployments changed for door" in proc.stderr  # pinned to y now, not refused
    assert "on the warm worker" in proc.stderr
    assert (y / "current").is_symlink() and not door.root.exists()
    again = door.cli("run", "full", "--root", str(y), "--json")  # same root: nothing to apply
    assert "deployments" not in again.stderr and "on the warm worker" in again.stderr
    stages = {s["name"]: s for s in json.loads(again.stdout)["stages"]}
    assert stages["verify"]["detail"] == "1 checks passed"  # nothing changed: still checked


def test_a_plan_whose_root_vanished_is_refused(door: Stack) -> None:
    x = door.dir / "x"
    plan = json.loads(door.cli("plan", "--save", "--root", str(x), "--json").stdout)
    door.cli("approve", plan["id"])
    stop_everything(x)
    shutil.rmtree(x)
    proc = door.cli("execute", plan["id"], check=False)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert f"root {x} no longer exists" in proc.stderr
    assert not x.exists()


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("history", "--stack", "/no/such.yaml"), "--stack /no/such.yaml: does not exist"),
        (("runs", "logs", "x", "--root", "/etc/passwd"), "--root /etc/passwd: not a directory"),
        (("runs", "status", "x", "--stack", "/etc"), "--stack /etc: is not a file"),
        (("version", "--root", "/etc/hostname"), "--root /etc/hostname: not a directory"),
    ],
)
def test_bad_shared_options_are_one_line(door: Stack, args: tuple[str, ...], says: str) -> None:
    proc = door.cli(*args, check=False, stack=False)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines() == [
        f"error: {says}" + proc.stderr.split(says)[1].rstrip()
    ]
