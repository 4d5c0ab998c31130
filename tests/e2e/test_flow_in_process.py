"""The deploy flow called in-process against the harness API: task runs per stage in order, the
markdown report artifact, and the summary sent to a real HTTP receiver through apprise."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from tests.e2e.conftest import Stack


@pytest.fixture
def receiver():
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", 0))
            received.append(json.loads(self.rfile.read(length)))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"json://127.0.0.1:{httpd.server_address[1]}/hook", received
    httpd.shutdown()


def test_flow_runs_stages_as_tasks_and_reports(stack: Stack, receiver, prefect_api: str) -> None:
    from prefect.blocks.notifications import CustomWebhookNotificationBlock
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterId,
    )
    from prefect.client.schemas.sorting import FlowRunSort, TaskRunSort

    from deployflow.flows.deploy import deploy

    url, received = receiver
    CustomWebhookNotificationBlock(
        name="ops-hook",
        url=url.replace("json://", "http://"),
        json_data={"title": "{{subject}}", "body": "{{body}}"},
        allow_private_urls=True,
    ).save("ops-hook", overwrite=True)
    targets = f'[{{apprise: "{url}"}}, {{block: custom-webhook/ops-hook}}]'
    stack.edit("notifications: []", f"notifications: {targets}")
    summary = deploy(stack=str(stack.file), root=str(stack.root), stack_name="woosoo")
    assert summary["result"] == "success" and summary["warnings"] == []
    stages = [s["name"] for s in summary["stages"]]
    from deployflow.ops.pipeline import STAGES

    assert stages == [stage.name for stage in STAGES]  # the pipeline list drives the flow
    assert summary["notify"] == [f"{url}: sent", "block custom-webhook/ops-hook: sent"]
    assert len(received) == 2 and all("success" in r["title"] for r in received)
    password = (stack.root / ".deployflow" / "secrets.env").read_text().split("=", 1)[1].strip()
    assert password not in json.dumps(received) + json.dumps(summary)

    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(limit=50, sort=FlowRunSort.START_TIME_DESC)
        name = f"deploy-woosoo-{summary['release']}"  # named after the project and release
        run = next(r for r in runs if r.name == name and r.state.is_completed())
        tasks = client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run.id])),
            limit=100,
            sort=TaskRunSort.EXPECTED_START_TIME_ASC,
        )
        names = {t.name for t in tasks}
        stage_tasks = {n.rsplit("-", 1)[0] for n in names}
        ran = {s["name"] for s in summary["stages"] if s["status"] != "skipped"}
        assert {stage.name for stage in STAGES if stage.task and stage.name in ran} <= stage_tasks
        assert {"report", "notify"} <= stage_tasks
        assert {"build-backend", "build-pwa", "build-relay"} <= names
    body = {
        "artifacts": {"key": {"any_": ["woosoo-full-report"]}},
        "flow_runs": {"id": {"any_": [str(run.id)]}},
    }
    artifacts = httpx.post(f"{prefect_api}/artifacts/filter", json=body).json()
    assert "**Result:** success" in artifacts[0]["data"]
