"""Benchmark (not a test): a health sweep of many endpoints takes about one timeout, not one
timeout per endpoint. N http checks against a local server that accepts connections and never
answers (each check times out), plus N that answer at once; the sweep's time is printed next to
the timeout and to what probing them one after another would cost.
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
from deployflow.ops.health import probe_all


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoints", type=int, default=200)
    parser.add_argument("--timeout", type=float, default=1.0)
    args = parser.parse_args()
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(4096)  # connections complete in the backlog; nothing ever answers
    quick = ThreadingHTTPServer(("127.0.0.1", 0), Quick)
    threading.Thread(target=quick.serve_forever, daemon=True).start()
    half = args.endpoints // 2
    checks = [
        CheckSpec("http", f"http://127.0.0.1:{silent.getsockname()[1]}/{i}", timeout=args.timeout)
        for i in range(half)
    ] + [
        CheckSpec("http", f"http://127.0.0.1:{quick.server_address[1]}/{i}", timeout=args.timeout)
        for i in range(args.endpoints - half)
    ]
    started = time.perf_counter()
    results = probe_all(checks, lambda _name: None)  # type: ignore[arg-type, return-value]
    took = time.perf_counter() - started
    failed = sum(not r.ok for r in results)
    print(
        f"{len(checks)} endpoints ({failed} timing out after {args.timeout:.1f} s): sweep "
        f"{took:.2f} s = {took / args.timeout:.2f} timeouts; one after another it would be "
        f">= {failed * args.timeout:.0f} s"
    )
    quick.shutdown()


if __name__ == "__main__":
    main()
