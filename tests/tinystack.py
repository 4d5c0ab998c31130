"""A one-app stack for tests that need a real deploy but not the bundled example: an HTTP
service answering its VERSION file (or what its build wrote to built-by), on a free port."""

from __future__ import annotations

from pathlib import Path

TINY_SERVER = """\
import http.server, pathlib, sys

class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = pathlib.Path("built-by" if pathlib.Path("built-by").exists() else "VERSION")
        text = body.read_text().strip()
        self.send_response(500 if text == "broken" else 200)
        self.end_headers()
        self.wfile.write(text.encode())

    def log_message(self, *args):
        pass

http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
"""

TINY_STACK = """\
project: {project}
vars: {{PORT: "{port}"}}
paths: {{root: ./root}}
targets:
  local: {{host: localhost, {target}}}
apps:
  web:
    source: app
{app}
    services: [web]
    health:
      - http: "http://127.0.0.1:{{{{ PORT }}}}/"
services:
  web:
    command: "{{{{ sys.python }}}} server.py {{{{ PORT }}}}"
    port: "{{{{ PORT }}}}"
    stop_grace: 3
verify: {{deadline: 5, interval: 0.2}}
"""


def write_tiny_stack(base: Path, project: str, app: str, target: str = "") -> int:
    """A one-app stack in `base` (an HTTP service answering its VERSION file, or what its
    build wrote to built-by; 500 for "broken") on a free port, which it returns; `app` adds
    the app's keys."""
    from tests.conftest import free_port

    (base / "app").mkdir(parents=True, exist_ok=True)
    (base / "app" / "server.py").write_text(TINY_SERVER)
    (base / "app" / "VERSION").write_text("v1\n")
    port = free_port()
    text = TINY_STACK.format(project=project, port=port, app=app, target=target)
    (base / "deployflow.yaml").write_text(text)
    return port
