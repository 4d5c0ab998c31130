"""Git sources through the CLI and Prefect: `run full --ref SHA`, the commit in `releases`, in
the report and in the Prefect run's tags, `rollback --to` a SHA prefix, and a ref that does not
exist as one line."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import httpx

from tests.e2e.conftest import Stack, stop_everything, write_tiny_stack
from tests.gitrepo import commit


def test_run_full_with_a_ref_and_rollback_to_a_sha(tmp_path: Path, prefect_api: str) -> None:
    port = write_tiny_stack(tmp_path / "stack", "gitcli", "")
    repo = tmp_path / "repo"
    (tmp_path / "stack" / "app").rename(repo)
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    s = Stack(tmp_path / "stack" / "deployflow.yaml", tmp_path / "stack" / "root", {})
    s.env = {**os.environ, "PREFECT_API_URL": prefect_api, "NO_COLOR": "1"}
    s.env["DEPLOYFLOW_HOME"] = str(tmp_path / "home")
    s.env.pop("DEPLOYFLOW_ROOT", None)
    s.edit("    source: app", "    source: {git: ../repo}")
    url = f"http://127.0.0.1:{port}/"
    try:
        v1 = commit(repo, "v1")
        v2 = commit(repo, "v2")
        summary = json.loads(s.cli("run", "full", "--ref", v1[:9], "--json").stdout)
        assert httpx.get(url).text == "v1" and summary["commits"]["web"]["sha"] == v1
        run = httpx.get(f"{prefect_api}/flow_runs/{summary['run']}").json()
        assert f"web@{v1[:12]}" in run["tags"]  # the Prefect run says what it built
        out = s.cli("run", "full").stdout
        assert httpx.get(url).text == "v2" and f"**Commit (web):** {v2[:12]} main" in out
        listed = s.cli("releases").stdout
        assert f"web: {v2[:12]} release v2" in listed and f"web: {v1[:12]} release v1" in listed
        assert f"web@{v2[:12]}" in s.cli("history").stdout
        s.cli("rollback", "--to", v1[:7])
        assert httpx.get(url).text == "v1"
        bad = s.cli("run", "full", "--ref", "no-such-tag", check=False)
        lines = [line for line in bad.stderr.splitlines() if line.startswith("error:")]
        assert bad.returncode == 1 and len(lines) == 1 and "no-such-tag" in lines[0]
    finally:
        stop_everything(s.root)
