"""Blue-green on one host, for real: Debian's nginx in front (started by deployflow's process
backend), a small app on two slots. A poller hits the public URL throughout a deploy, a
rollback, a deploy whose new slot never gets healthy, a deploy that fails its checks after
traffic switched, and a failure and a kill -9 while the old slot drains; it must never see a
failed request, the online release phase included. Not the bundled example."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from tests.conftest import free_port
from tests.e2e.conftest import Stack, kill_at, stop_everything

SERVER = """\
import http.server, pathlib, sys
port, mode = int(sys.argv[1]), sys.argv[2]
version = pathlib.Path("VERSION").read_text().strip()

class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        bad = (mode == "dead") or (mode == "unready" and self.path == "/ready")
        body = version.encode()
        self.send_response(500 if bad else 200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass

http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
"""

STACK = """\
project: bg
vars: {{PUBLIC: "{public}", BLUE: "{blue}", GREEN: "{green}", MODE: "ok"}}
paths: {{root: ./root, keep_releases: 5}}
apps:
  web:
    source: app
    services: [web]
    # an online release phase (the default with blue-green): it runs while v1 serves
    release: [["{{{{ sys.python }}}}", -c, "import time; time.sleep(0.5); print('migrated')"]]
    health:
      - http: "http://127.0.0.1:{{{{ PUBLIC }}}}/ready"
services:
  web:
    command: "{{{{ sys.python }}}} server.py {{{{ slot.port }}}} {{{{ MODE }}}}"
    blue_green: {{ports: ["{{{{ BLUE }}}}", "{{{{ GREEN }}}}"], check: /health, drain: 5}}
    start_timeout: 5
    stop_grace: 3
proxy: {{listen: "{{{{ PUBLIC }}}}", routes: {{"/": web}}}}
verify: {{deadline: 3, interval: 0.2}}
rollout: {{strategy: blue-green}}
"""


class Poller(threading.Thread):
    """GETs the public URL back to back, each on a new connection, recording every answer."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url, self.stop, self.seen, self.failures = url, threading.Event(), [], []

    def run(self) -> None:
        client = httpx.Client(timeout=5, limits=httpx.Limits(max_keepalive_connections=0))
        while not self.stop.is_set():
            try:
                answer = client.get(self.url)
                if answer.status_code != 200:
                    self.failures.append(f"HTTP {answer.status_code}: {answer.text[:80]}")
                elif not self.seen or self.seen[-1] != answer.text:
                    self.seen.append(answer.text)
                self.count = getattr(self, "count", 0) + 1
            except httpx.HTTPError as exc:
                self.failures.append(repr(exc))
            time.sleep(0.002)
        client.close()


@pytest.fixture
def bg(tmp_path: Path, prefect_api: str) -> Iterator[Stack]:
    base = tmp_path / "bg"
    (base / "app").mkdir(parents=True)
    (base / "app" / "server.py").write_text(SERVER)
    (base / "app" / "VERSION").write_text("v1\n")
    ports = {"public": free_port(), "blue": free_port(), "green": free_port()}
    (base / "deployflow.yaml").write_text(STACK.format(**ports))
    env = {**os.environ, "PREFECT_API_URL": prefect_api, "NO_COLOR": "1"}
    env.pop("DEPLOYFLOW_ROOT", None)
    s = Stack(base / "deployflow.yaml", base / "root", env)
    s.public = ports["public"]  # type: ignore[attr-defined]
    s.slots = (ports["blue"], ports["green"])  # type: ignore[attr-defined]
    yield s
    stop_everything(s.root)


def _listening(port: int) -> bool:
    try:
        httpx.get(f"http://127.0.0.1:{port}/health", timeout=1)
        return True
    except httpx.HTTPError:
        return False


def test_deploys_and_rollbacks_switch_slots_without_a_failed_request(bg: Stack) -> None:
    url = f"http://127.0.0.1:{bg.public}/"  # type: ignore[attr-defined]
    bg.cli("run", "full")
    assert httpx.get(url).text == "v1"
    blue, green = bg.slots  # type: ignore[attr-defined]
    assert _listening(blue) and not _listening(green)
    status = {s["name"]: s for s in json.loads(bg.cli("services", "status", "--json").stdout)}
    assert status["proxy"]["running"] and status["web"]["detail"].endswith("on slot blue")
    health = json.loads(bg.cli("health", "--json").stdout)
    proxy = next(r for r in health["services"] if r["name"] == "proxy")
    assert proxy["running"] and proxy["port_open"] and proxy["grade"] == "ok"

    poller = Poller(url)
    poller.start()
    try:
        (bg.dir / "app" / "VERSION").write_text("v2\n")
        out = bg.cli("run", "full").stdout
        assert "drain" in out and "1 release commands (web), the live release serving" in out
        assert httpx.get(url).text == "v2"
        assert _listening(green) and not _listening(blue)  # the old slot drained and stopped

        bg.cli("rollback")
        assert httpx.get(url).text == "v1"
        assert _listening(blue) and not _listening(green)

        # a new slot that never answers its check: traffic never leaves the live slot
        (bg.dir / "app" / "VERSION").write_text("v3\n")
        bg.edit('MODE: "ok"', 'MODE: "dead"')
        failed = bg.cli("run", "full", check=False)
        assert failed.returncode == 1 and "slot green did not pass" in failed.stderr
        assert httpx.get(url).text == "v1" and not _listening(green)

        # the slot answers but the public checks fail after the switch: back to the old slot
        bg.edit('MODE: "dead"', 'MODE: "unready"')
        failed = bg.cli("run", "full", check=False)
        assert failed.returncode == 1 and "rolled back" in failed.stderr, failed.stderr[-2000:]
        assert httpx.get(url).text == "v1"
        assert _listening(blue) and not _listening(green)

        # faults once traffic switched and the old slot drains: a failure, then a kill -9
        bg.edit('MODE: "unready"', 'MODE: "ok"')
        env = {**bg.env, "DEPLOYFLOW_FAILPOINTS": "drain=exit"}
        failed = bg.cli_env(env, "run", "full", check=False)
        assert failed.returncode == 1 and "failpoint drain" in failed.stderr
        assert httpx.get(url).text == "v1" and not _listening(green)
        kill_at(bg, "drain", {**bg.env, "DEPLOYFLOW_FAILPOINTS": "drain=hang"})
        assert httpx.get(url).text == "v3"  # the killed deploy had switched traffic
        bg.cli("recover")
        assert httpx.get(url).text == "v1"
        assert _listening(blue) and not _listening(green)
    finally:
        poller.stop.set()
        poller.join(10)
    assert poller.failures == [], poller.failures[:5]
    assert poller.count > 50  # type: ignore[attr-defined]
    assert poller.seen[:3] == ["v1", "v2", "v1"], poller.seen

    # the proxy that `services status` lists is stopped and started like any service
    def proxy_running() -> bool:
        rows = json.loads(bg.cli("services", "status", "proxy", "--json").stdout)
        return rows[-1]["name"] == "proxy" and rows[-1]["running"]

    bg.cli("services", "stop", "proxy")
    assert not proxy_running() and not _listening(bg.public)  # type: ignore[attr-defined]
    bg.cli("services", "start", "proxy")
    assert proxy_running() and httpx.get(url).text == "v1"
    bg.cli("services", "stop", "all")
    assert not proxy_running() and not _listening(blue)


def test_a_running_service_turned_blue_green_leaves_no_old_process(bg: Stack) -> None:
    """Issue 28 defect 3: the single process that held the public port is stopped when the
    service turns blue-green (the proxy takes that port); nothing is left outside status."""
    blue_green = bg.file.read_text()
    single = (
        blue_green.replace("{{ slot.port }}", "{{ PUBLIC }}")
        .replace(
            '    blue_green: {ports: ["{{ BLUE }}", "{{ GREEN }}"], check: /health, drain: 5}',
            '    port: "{{ PUBLIC }}"',
        )
        .replace('proxy: {listen: "{{ PUBLIC }}", routes: {"/": web}}\n', "")
        .replace("rollout: {strategy: blue-green}\n", "")
    )
    assert "blue_green" not in single and "proxy" not in single
    bg.file.write_text(single)
    bg.cli("run", "full")
    pidfile = bg.root / ".deployflow" / "run" / "web.pid"
    old = psutil.Process(json.loads(pidfile.read_text())["pid"])

    bg.file.write_text(blue_green)
    (bg.dir / "app" / "VERSION").write_text("v2\n")
    bg.cli("run", "full")
    url = f"http://127.0.0.1:{bg.public}/"  # type: ignore[attr-defined]
    assert httpx.get(url, timeout=5).text == "v2"  # through the proxy
    gone = not old.is_running() or old.status() == psutil.STATUS_ZOMBIE
    assert gone, old.cmdline()  # the single process is gone
    bg.cli("services", "stop", "all")
    for port in (bg.public, *bg.slots):  # type: ignore[attr-defined]
        assert not _listening(port)
