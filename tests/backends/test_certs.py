"""Certificates for real: a CA made with the cryptography package, certificates issued by it
and by Debian's mkcert from the same CA, read back and verified (chain, names, a real TLS
handshake), keys 0600; the CA put into a trust store by the real update-ca-certificates under
a temp prefix (not the machine's own store)."""

from __future__ import annotations

import ssl
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from deployflow.backends.catrust import trust_ca
from deployflow.backends.certs import (
    CA_CERT,
    CA_KEY,
    chain_error,
    ensure_ca,
    issue,
    mkcert_program,
    read_cert,
    tls_names,
)
from deployflow.errors import ConfigError
from tests.conftest import free_port


def _serve_tls(cert: Path, key: Path) -> int:
    """A TLS server on a free port that completes one handshake at a time, forever."""
    import socket

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    port = free_port()
    sock = socket.create_server(("127.0.0.1", port))

    def loop() -> None:
        while True:
            conn, _ = sock.accept()
            try:
                with context.wrap_socket(conn, server_side=True):
                    pass
            except (ssl.SSLError, OSError):
                conn.close()

    threading.Thread(target=loop, daemon=True).start()
    return port


@pytest.mark.parametrize("engine", ["builtin", "mkcert"])
def test_issue_read_back_and_verify(tmp_path: Path, engine: str) -> None:
    if engine == "mkcert":
        assert mkcert_program(), "scripts/install installs mkcert"
    ca = tmp_path / "ca"
    cert, key = tmp_path / "certs" / "site.pem", tmp_path / "certs" / "site-key.pem"
    info = issue(ca, ["site.example", "127.0.0.1", "localhost"], cert, key, engine, days=30)
    assert sorted(info.names) == ["127.0.0.1", "localhost", "site.example"]
    assert "deployflow local CA" in info.issuer
    assert key.stat().st_mode & 0o777 == 0o600 and (ca / CA_KEY).stat().st_mode & 0o777 == 0o600
    assert chain_error(cert, ca / CA_CERT) is None
    assert read_cert(cert) == info
    port = _serve_tls(cert, key)
    assert tls_names("127.0.0.1", port, "site.example", ca / CA_CERT) == info.sha256
    with pytest.raises(ConfigError, match=r"Hostname mismatch|doesn't match|not valid"):
        tls_names("127.0.0.1", port, "other.example", ca / CA_CERT)


def test_another_ca_and_an_expired_certificate(tmp_path: Path) -> None:
    cert, key = tmp_path / "old.pem", tmp_path / "old-key.pem"
    past = datetime.now(UTC) - timedelta(days=10)
    info = issue(tmp_path / "ca", ["a.example"], cert, key, "builtin", days=2, not_before=past)
    assert info.not_after < datetime.now(UTC)
    other = ensure_ca(tmp_path / "other-ca")
    assert "CA" in (chain_error(cert, other) or "")
    port = _serve_tls(cert, key)
    with pytest.raises(ConfigError, match="expired"):
        tls_names("127.0.0.1", port, "a.example", tmp_path / "ca" / CA_CERT)
    (tmp_path / "junk.pem").write_text("not a certificate")
    with pytest.raises(ConfigError, match="is not a PEM certificate"):
        read_cert(tmp_path / "junk.pem")


def test_trust_puts_the_ca_in_a_store_bundle(tmp_path: Path) -> None:
    ca = ensure_ca(tmp_path / "ca")
    prefix = tmp_path / "store"
    placed = trust_ca(ca, str(prefix))
    assert placed.read_bytes() == ca.read_bytes()
    bundle = (prefix / "etc/ssl/certs/ca-certificates.crt").read_text()
    assert ca.read_text().strip() in bundle


def test_a_broken_ca_key_is_one_line(tmp_path: Path) -> None:
    ensure_ca(tmp_path / "ca")
    (tmp_path / "ca" / CA_KEY).write_text("garbage")
    with pytest.raises(ConfigError, match="is not a private key; move"):
        issue(tmp_path / "ca", ["a.example"], tmp_path / "c.pem", tmp_path / "k.pem", "builtin")
    assert not (tmp_path / "c.pem").exists() and not (tmp_path / "k.pem").exists()
