"""A sweep on real sockets: HTTP and TCP on one event loop, results in the checks' order, a
server that never answers bounded by the check's timeout, callable from inside a running loop."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from deployflow.core.healthplan import CheckSpec
from deployflow.probes.sweep import sweep_checks


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200 if self.path.startswith("/ok") else 503)
        self.end_headers()
        self.wfile.write(b"ready")

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def urls() -> Iterator[tuple[str, str]]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(64)  # accepts connections, never answers
    yield (
        f"http://127.0.0.1:{httpd.server_address[1]}",
        f"http://127.0.0.1:{silent.getsockname()[1]}",
    )
    httpd.shutdown()
    silent.close()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _checks(live: str, silent: str) -> list[CheckSpec]:
    host_port = live.removeprefix("http://")
    return [
        CheckSpec("http", f"{live}/ok", contains="ready"),
        CheckSpec("http", f"{silent}/", timeout=0.3),
        CheckSpec("http", f"{live}/down"),
        CheckSpec("tcp", host_port),
        CheckSpec("tcp", f"127.0.0.1:{_closed_port()}", timeout=0.5),
        *[CheckSpec("http", f"{live}/ok/{i}") for i in range(30)],
    ]


def test_sweep_results_in_order(urls: tuple[str, str]) -> None:
    results = sweep_checks(_checks(*urls), lambda _n: None)  # type: ignore[arg-type, return-value]
    assert [r.ok for r in results[:5]] == [True, False, False, True, False]
    assert results[1].detail == "no answer in 0.3 s"
    assert results[2].detail == "HTTP 503 (want 200)"
    assert results[3].detail == "port open" and results[3].name.startswith("tcp ")
    assert "Connect" in results[4].detail or "refused" in results[4].detail
    assert all(r.ok for r in results[5:]) and len(results) == 35


def test_sweep_from_inside_a_running_loop(urls: tuple[str, str]) -> None:
    async def caller() -> list[bool]:
        return [r.ok for r in sweep_checks(_checks(*urls)[:2], lambda _n: None)]  # type: ignore[arg-type, return-value]

    assert asyncio.run(caller()) == [True, False]
