"""CI webhooks over real HTTP: `deployflow webhook serve` against a real Prefect API. A signed
push to main starts the deploy deployment with the commit as its revision; everything else
gets the right status and starts nothing; the audit log never holds the secret."""

from __future__ import annotations

import hashlib
import hmac
import json
import subprocess
import sys
import time
import uuid

import httpx

from tests.conftest import free_port
from tests.e2e.conftest import Stack

SECRET = "s3cret-for-hooks"


def _sign(body: bytes) -> str:
    return "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()


def _push(branch: str = "main", repo: str = "acme/woosoo") -> bytes:
    return json.dumps(
        {
            "ref": f"refs/heads/{branch}",
            "after": "0123456789abcdef",
            "repository": {"full_name": repo},
        }
    ).encode()


def _post(
    url: str, body: bytes, event: str = "push", sign: bool = True, delivery: str | None = None
):
    headers = {"X-GitHub-Event": event, "X-GitHub-Delivery": delivery or str(uuid.uuid4())}
    if sign:
        headers["X-Hub-Signature-256"] = _sign(body)
    return httpx.post(url, content=body, headers=headers, timeout=30)


def test_github_webhooks(stack: Stack, prefect_api: str) -> None:
    port = free_port()
    env = {**stack.env, "WOOSOO_GITHUB_SECRET": SECRET}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "deployflow",
            "webhook",
            "serve",
            "--port",
            str(port),
            "--stack",
            str(stack.file),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}/hooks/github"
    try:
        ends = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
                break
            except httpx.HTTPError:
                assert time.monotonic() < ends and server.poll() is None, server.stderr.read()
                time.sleep(0.2)

        def runs() -> list[dict]:  # the newest: the shared server holds the session's runs
            body = {"limit": 200, "sort": "EXPECTED_START_TIME_DESC"}
            return httpx.post(f"{prefect_api}/flow_runs/filter", json=body).json()

        def new() -> set[str]:  # runs a push of this test started: they carry its commit
            sha = "0123456789abcdef"
            mine = {r["id"] for r in runs() if (r.get("parameters") or {}).get("revision") == sha}
            return mine - known

        known = {r["id"] for r in runs()}
        assert _post(url, b'{"zen": "hi"}', event="ping").status_code == 200
        assert _post(url, _push(), sign=False).status_code == 401
        bad = httpx.post(
            url,
            content=_push(),
            headers={"X-GitHub-Event": "push", "X-Hub-Signature-256": "sha256=00"},
        )
        assert bad.status_code == 401
        assert _post(url, b"x" * (1024 * 1024 + 1)).status_code == 413
        assert _post(url, b"not json").status_code == 400
        assert _post(url, _push(branch="feature/x")).status_code == 404
        assert _post(url, _push(repo="acme/other")).status_code == 404
        assert httpx.post(f"http://127.0.0.1:{port}/hooks/gitlab", content=b"{}").status_code == 404
        unnamed = {"X-GitHub-Event": "push", "X-Hub-Signature-256": _sign(_push())}
        assert httpx.post(url, content=_push(), headers=unnamed).status_code == 400  # no id
        assert new() == set()  # nothing started by any of those

        # a delivery whose run cannot be created (no deployment yet: as with the API down) is
        # not remembered: the sender's redelivery of the same id starts it, once
        delivery = str(uuid.uuid4())
        existing = httpx.get(f"{prefect_api}/deployments/name/deploy/woosoo-local")
        if existing.status_code == 200:  # an earlier test's, on the shared API: gone for now
            httpx.delete(f"{prefect_api}/deployments/{existing.json()['id']}")
        lost = _post(url, _push(), delivery=delivery)
        assert lost.status_code == 503 and "deliver it again" in lost.json()["error"]
        stack.cli("deployments", "apply")
        started = _post(url, _push(), delivery=delivery)
        assert started.status_code == 202
        run_id = started.json()["run"]
        run = httpx.get(f"{prefect_api}/flow_runs/{run_id}").json()
        assert run["parameters"]["revision"] == "0123456789abcdef"
        assert _post(url, _push(), delivery=delivery).status_code == 409  # a replay
        assert new() == {run_id}
    finally:
        server.terminate()
        server.wait(timeout=30)
        # no worker serves this test: its runs must not wait for the next test's worker on the
        # same pool name of the shared API (it would deploy into this test's root afterwards)
        for run in runs():
            if run["id"] not in known:
                httpx.delete(f"{prefect_api}/flow_runs/{run['id']}", timeout=30)
    audit = (stack.root / ".deployflow" / "webhooks.jsonl").read_text()
    verdicts = [json.loads(line)["verdict"] for line in audit.splitlines()]
    assert verdicts.count("started") == 1 and "replayed" in verdicts and "bad signature" in verdicts
    assert "start failed" in verdicts and "no delivery id" in verdicts
    assert SECRET not in audit and "sha256=" not in audit
