"""Certificates end to end in this process: a blue-green stack whose proxy (Debian's nginx)
serves HTTPS with a certificate made on first use for its listen address, plain HTTP
redirected; its https health check verified against the local CA; `verify` does a live
handshake; a broken certificate is refused by `nginx -t` while the proxy keeps serving; renew
fixes it and the proxy presents the new one; an expired certificate grades `health` down; a
backup carries the certificates and a restore brings a removed one back."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from deployflow.backends.certs import CA_CERT, ca_dir, read_cert
from deployflow.core.stack import HealthCheck
from deployflow.errors import ServiceError
from deployflow.loading import load_stack
from deployflow.ops.backups import new_backup
from deployflow.ops.certs import cert_rows, generate, renew, verify
from deployflow.ops.deploy import deploy
from deployflow.ops.deployrun import DeployOptions
from deployflow.ops.healthview import health_report
from deployflow.ops.restore import restore_backup
from deployflow.ops.runner import PlainRunner
from deployflow.probes.checks import http_probe
from deployflow.stages.backup import BackupOptions
from deployflow.stages.slots import reload_if_running
from tests.conftest import free_port
from tests.e2e.conftest import stop_everything
from tests.e2e.test_blue_green import SERVER

STACK = """\
project: tls
vars: {{PUBLIC: "{public}", TLS: "{tls}", BLUE: "{blue}", GREEN: "{green}"}}
paths: {{root: ./root}}
apps:
  web:
    source: app
    services: [web]
    health:
      - http: "https://127.0.0.1:{{{{ TLS }}}}/"
services:
  web:
    command: "{{{{ sys.python }}}} server.py {{{{ slot.port }}}} ok"
    blue_green: {{ports: ["{{{{ BLUE }}}}", "{{{{ GREEN }}}}"], check: /, drain: 1}}
    stop_grace: 3
proxy:
  listen: "{{{{ PUBLIC }}}}"
  routes: {{"/": web}}
  listen_tls: "{{{{ TLS }}}}"
  cert: site
  redirect_http: true
verify: {{deadline: 5, interval: 0.2}}
"""


class Site:
    def __init__(self, base: Path) -> None:
        self.base = base
        self.public, self.tls = free_port(), free_port()
        (base / "app").mkdir()
        (base / "app" / "server.py").write_text(SERVER)
        (base / "app" / "VERSION").write_text("v1\n")
        text = STACK.format(public=self.public, tls=self.tls, blue=free_port(), green=free_port())
        (base / "deployflow.yaml").write_text(text)
        self.lines: list[str] = []

    def ctx(self):
        return load_stack(self.base / "deployflow.yaml", self.base / "root")

    def https(self) -> httpx.Response:
        context = ssl.create_default_context(cafile=str(ca_dir() / CA_CERT))
        return httpx.get(f"https://127.0.0.1:{self.tls}/", verify=context, timeout=5)


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Site]:
    monkeypatch.setenv("DEPLOYFLOW_HOME", str(tmp_path / "home"))
    s = Site(tmp_path)
    yield s
    stop_everything(tmp_path / "root")


def test_https_checks_verify_against_the_local_ca_unless_insecure(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    deploy(site.ctx(), DeployOptions(), PlainRunner(site.lines.append))
    url = f"https://127.0.0.1:{site.tls}/"
    assert http_probe(url).ok
    monkeypatch.setenv("DEPLOYFLOW_HOME", str(site.base / "another-home"))  # no such CA there
    refused = http_probe(url)
    assert not refused.ok and "CERTIFICATE_VERIFY_FAILED" in refused.detail
    anyway = http_probe(url, insecure=True)
    assert anyway.ok and anyway.detail.endswith("(TLS not verified: insecure)")
    with pytest.raises(ValueError, match=r"insecure: is for https:// checks only"):
        HealthCheck(http="http://127.0.0.1/", insecure=True)


def test_https_proxy_renewal_health_and_backups(site: Site) -> None:
    done = deploy(site.ctx(), DeployOptions(), PlainRunner(site.lines.append))
    assert done["result"] == "success"  # its https check verified the chain
    assert site.https().text == "v1"
    plain = httpx.get(f"http://127.0.0.1:{site.public}/x?y=1", timeout=5)
    assert plain.status_code == 308
    assert plain.headers["location"] == f"https://127.0.0.1:{site.tls}/x?y=1"
    key = site.base / "root" / "shared" / "certs" / "site-key.pem"
    assert key.stat().st_mode & 0o777 == 0o600
    checks = verify(site.ctx(), "127.0.0.1")
    assert [c["check"] for c in checks] == ["covered", "chain", "expiry", "live TLS"]
    assert all(c["ok"] for c in checks), checks

    cert = key.with_name("site.pem")
    served = read_cert(cert).sha256
    cert.write_text("-----BEGIN CERTIFICATE-----\nbroken\n-----END CERTIFICATE-----\n")
    with pytest.raises(ServiceError, match="nginx refused"):
        reload_if_running(site.ctx(), site.lines.append)
    assert site.https().text == "v1"  # the running config keeps serving
    assert [r["grade"] for r in cert_rows(site.ctx())] == ["down"]
    assert renew(site.ctx(), 30, log=site.lines.append) == ["site"]
    live = next(c for c in verify(site.ctx(), "localhost") if c["check"] == "live TLS")
    assert live["ok"] and read_cert(cert).sha256 != served

    past = datetime.now(UTC) - timedelta(days=30)
    generate(site.ctx(), ["old.example"], "old", "builtin", 1, site.lines.append, past)
    report = health_report(site.ctx())
    grades = {c["name"]: c["grade"] for c in report["certs"]}
    assert grades == {"old": "down", "site": "ok"} and report["verdict"] == "down"

    backup = new_backup(site.ctx(), site.lines.append, BackupOptions(kind="manual"))["id"]
    old = cert.with_name("old.pem")
    old.unlink()
    cert.with_name("old-key.pem").unlink()
    restore_backup(site.ctx(), backup, "configs", site.lines.append)
    assert read_cert(old).names == ["old.example"]
    assert cert.with_name("old-key.pem").stat().st_mode & 0o777 == 0o600


HOSTS = """\
project: hosts
vars: {{PUBLIC: "{public}", TLS: "{tls}", A: "{a}", B: "{b}"}}
paths: {{root: ./root}}
apps:
  shop:
    source: shop
    services: [shop]
    health: [{{http: "http://127.0.0.1:{{{{ A }}}}/"}}]
  blog:
    source: blog
    services: [blog]
    health: [{{http: "http://127.0.0.1:{{{{ B }}}}/"}}]
services:
  shop: {{command: "{{{{ sys.python }}}} server.py {{{{ A }}}} ok", port: "{{{{ A }}}}"}}
  blog: {{command: "{{{{ sys.python }}}} server.py {{{{ B }}}} ok", port: "{{{{ B }}}}"}}
proxy:
  listen: "{{{{ PUBLIC }}}}"
  hosts: {{shop.localhost: shop, blog.localhost: blog}}
  listen_tls: "{{{{ TLS }}}}"
  cert: edge
verify: {{deadline: 5, interval: 0.2}}
"""


def test_host_names_route_to_their_services_over_http_and_https(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEPLOYFLOW_HOME", str(tmp_path / "home"))
    public, tls = free_port(), free_port()
    for app in ("shop", "blog"):
        (tmp_path / app).mkdir()
        (tmp_path / app / "server.py").write_text(SERVER)
        (tmp_path / app / "VERSION").write_text(f"{app} v1\n")
    text = HOSTS.format(public=public, tls=tls, a=free_port(), b=free_port())
    (tmp_path / "deployflow.yaml").write_text(text)
    ctx = load_stack(tmp_path / "deployflow.yaml", tmp_path / "root")
    try:
        assert deploy(ctx, DeployOptions(), PlainRunner(lambda _m: None))["result"] == "success"
        for app in ("shop", "blog"):
            host = {"Host": f"{app}.localhost"}
            plain = httpx.get(f"http://127.0.0.1:{public}/", headers=host, timeout=5)
            assert plain.text == f"{app} v1"
            context = ssl.create_default_context(cafile=str(ca_dir() / CA_CERT))
            secure = httpx.get(f"https://127.0.0.1:{tls}/", headers=host, verify=context)
            assert secure.text == f"{app} v1"
        unknown = httpx.get(f"http://127.0.0.1:{public}/", headers={"Host": "x.localhost"})
        assert unknown.status_code == 404
        names = read_cert(tmp_path / "root" / "shared" / "certs" / "edge.pem").names
        assert {"shop.localhost", "blog.localhost", "127.0.0.1"} <= set(names)
    finally:
        stop_everything(tmp_path / "root")
