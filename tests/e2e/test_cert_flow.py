"""The `cert` flow against the harness API, called here and through `deployflow cert renew`
(the same flow): a certificate that expires in five days is renewed and the stack's
notification target (a real HTTP receiver through apprise) hears which; an unreadable index
fails the run, and the receiver hears that too."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from deployflow.loading import load_stack
from deployflow.ops.certs import cert_rows, generate
from tests.e2e.test_flow_in_process import receiver  # noqa: F401  (the fixture)
from tests.tinystack import write_tiny_stack


def test_cert_flow_renews_and_notifies(
    tmp_path: Path,
    receiver: tuple[str, list[dict]],  # noqa: F811
    prefect_api: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from deployflow.flows.cert import cert

    monkeypatch.setenv("DEPLOYFLOW_HOME", str(tmp_path / "home"))
    url, received = receiver
    write_tiny_stack(tmp_path, "certflow", '    steps: [["true"]]')
    stack = tmp_path / "deployflow.yaml"
    stack.write_text(stack.read_text() + f'notifications: [{{apprise: "{url}"}}]\n')
    root = tmp_path / "root"
    generate(load_stack(stack, root), ["soon.example"], "soon", "builtin", 5, lambda _m: None)

    result = cert(stack=str(stack), root=str(root), days=30)
    assert result == {"renewed": ["soon"], "certs": {"soon": "ok"}}
    assert [r["days_left"] >= 800 for r in cert_rows(load_stack(stack, root))] == [True]
    assert "renewed: soon" in received[-1]["message"]

    cli = [sys.executable, "-m", "deployflow", "cert", "renew", "--days", "9999"]
    env = {**os.environ, "PREFECT_API_URL": prefect_api}
    by_cli = subprocess.run(
        [*cli, "--stack", str(stack), "--root", str(root)], env=env, capture_output=True, text=True
    )
    assert by_cli.returncode == 0 and "renewed: soon" in by_cli.stdout, by_cli.stderr[-2000:]
    assert "renewed: soon" in received[-1]["message"]  # the same flow: it notified too

    (root / "shared" / "certs" / "index.json").write_text("{broken")
    with pytest.raises(Exception, match="is not JSON"):
        cert(stack=str(stack), root=str(root), days=30)
    assert "FAILED" in received[-1]["title"] and "is not JSON" in received[-1]["message"]
