"""The Prefect UI for real: headless Debian chromium (driven by Playwright's Python package)
opens the UI of the server deployflow started, finds the stack's deployments, starts a deploy
from the deployment's run form, and the worker runs it to completion."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port
from tests.e2e.conftest import Stack, new_stack, stop_everything

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Stack, str]]:
    s = new_stack(tmp_path, "unused")
    s.env.pop("PREFECT_API_URL")
    port = free_port()
    s.env.update(DEPLOYFLOW_HOME=str(tmp_path / "home"), DEPLOYFLOW_SERVER_PORT=str(port))
    s.cli("server", "start")
    s.cli("deployments", "apply")
    yield s, f"http://127.0.0.1:{port}"
    s.cli("server", "stop")
    stop_everything(s.root)


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed")
def test_deploy_started_from_the_ui_runs_on_the_worker(served: tuple[Stack, str], tmp_path) -> None:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    stack, ui = served
    api = f"{ui}/api"
    auth = (Path(stack.env["DEPLOYFLOW_HOME"]) / "prefect" / "auth").read_text().strip()
    user, password = auth.split(":", 1)
    deployments = json.loads(stack.cli("deployments", "list", "--json").stdout)
    deploy = next(d for d in deployments if d["name"] == "deploy/woosoo-local")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(f"{ui}/deployments", wait_until="networkidle")
        assert "/login" in page.url  # the UI asks for the local server's credential first
        page.locator("input").first.fill(auth)
        page.keyboard.press("Enter")
        page.wait_for_url(lambda url: "/login" not in url)
        page.goto(f"{ui}/deployments", wait_until="networkidle")
        assert page.get_by_text("woosoo-local-app").count() >= 1  # the stack's deployments
        page.goto(f"{ui}/deployments/deployment/{deploy['id']}", wait_until="networkidle")
        page.get_by_role("button", name="Run", exact=True).click()
        page.get_by_text("Quick run").click()  # the typed parameter form
        assert page.get_by_text("skip_backup (Optional)").is_visible()
        page.screenshot(path=str(tmp_path / "run-form.png"))
        dialog = page.get_by_role("dialog")
        dialog.get_by_role("button", name="Run", exact=True).click()
        try:  # the form closes once the run is created (under load, a click can come early)
            dialog.wait_for(state="hidden", timeout=15_000)
        except PlaywrightTimeout:
            dialog.get_by_role("button", name="Run", exact=True).click()
            dialog.wait_for(state="hidden", timeout=15_000)
        ends = time.monotonic() + 120
        runs: list[dict] = []
        while time.monotonic() < ends:
            body = {"deployments": {"id": {"any_": [deploy["id"]]}}}
            runs = httpx.post(f"{api}/flow_runs/filter", json=body, auth=(user, password)).json()
            if runs and runs[0]["state_type"] in ("COMPLETED", "FAILED", "CRASHED"):
                break
            time.sleep(1)
        page.goto(f"{ui}/runs", wait_until="networkidle")
        page.screenshot(path=str(tmp_path / "runs.png"))
        browser.close()
    assert runs and runs[0]["state_type"] == "COMPLETED", runs
    assert stack.health()["release"] == stack.current()
    first = stack.current()
    again = stack.cli("run", "full", "--plain")  # the CLI's REST path presents the credential
    assert "on the warm worker" in again.stderr and password not in again.stdout + again.stderr
    assert stack.current() != first  # a new release (no app changed: none restarted)
