"""Benchmark (not a test): a health sweep of many endpoints takes about one timeout, not one
timeout per endpoint. First N http checks that answer at once (aim: under 1 s), then N/2 of them
against a local server that accepts connections and never answers (each times out) beside N/2
that answer; the sweep's time is printed next to the timeout and to what probing them one after
another would cost.
Usage: .venv/bin/python bench/health_sweep.py [--endpoints 200] [--timeout 1.0]
"""

from __future__ import annotations

import argparse
import contextlib
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from deployflow.core.healthplan import CheckSpec
from deployflow.probes.sweep import sweep_checks


class Server(ThreadingHTTPServer):
    request_queue_size = 1024  # socketserver's default backlog of 5 drops a burst of connects


class Quick(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def handle(self) -> None:
        with contextlib.suppress(OSError):  # a client that gave up
            super().handle()

    def log_message(self, *_args: object) -> None:
        return


def _sweep(checks: list[CheckSpec]) -> tuple[float, int]:
    started = time.perf_counter()
    results = sweep_checks(checks, lambda _name: None)  # type: ignore[arg-type, return-value]
    return time.perf_counter() - started, sum(not r.ok for r in results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoints", type=int, default=200)
    parser.add_argument("--timeout", type=float, default=1.0)
    args = parser.parse_args()
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(4096)  # connections complete in the backlog; nothing ever answers
    quick = Server(("127.0.0.1", 0), Quick)
    threading.Thread(target=quick.serve_forever, daemon=True).start()
    silent_url = f"http://127.0.0.1:{silent.getsockname()[1]}"
    quick_url = f"http://127.0.0.1:{quick.server_address[1]}"
    n, t = args.endpoints, args.timeout
    answering = [CheckSpec("http", f"{quick_url}/{i}", timeout=t) for i in range(n)]
    took, failed = _sweep(answering)
    print(f"{n} answering endpoints: sweep {took:.2f} s ({failed} failed)")
    half = [CheckSpec("http", f"{silent_url}/{i}", timeout=t) for i in range(n // 2)]
    took, failed = _sweep(half + answering[n // 2 :])
    print(
        f"{n} endpoints, {failed} timing out after {t:.1f} s: sweep {took:.2f} s = "
        f"{took / t:.2f} timeouts; one after another it would be >= {failed * t:.0f} s"
    )
    quick.shutdown()


if __name__ == "__main__":
    main()
