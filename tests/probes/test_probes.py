"""Probes against real sockets: an HTTP server, an open and a closed port, the wait deadline."""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from deployflow.errors import HealthCheckError
from deployflow.probes import http_probe, tcp_probe, wait_until_healthy


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = json.dumps({"release": "r1", "db": "ok"}).encode()
        self.send_response(200 if self.path == "/ok" else 500)
        self.send_header("content-type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_http_probe(server: str) -> None:
    assert http_probe(f"{server}/ok", json_subset={"release": "r1"}).ok
    wrong = http_probe(f"{server}/ok", json_subset={"release": "r2"})
    assert not wrong.ok and wrong.detail == "release='r1' (want 'r2')"
    assert http_probe(f"{server}/bad").detail == "HTTP 500 (want 200)"
    assert not http_probe(f"http://127.0.0.1:{_closed_port()}/", timeout=0.5).ok


def test_tcp_probe_and_deadline(server: str) -> None:
    port = int(server.rsplit(":", 1)[1])
    assert tcp_probe("127.0.0.1", port).ok
    closed = _closed_port()
    with pytest.raises(HealthCheckError, match=f"tcp 127.0.0.1:{closed} still failing after 1s"):
        wait_until_healthy(
            [lambda: tcp_probe("127.0.0.1", closed, timeout=0.2)], deadline=1, interval=0.1
        )
