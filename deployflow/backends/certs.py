"""Certificates on disk: a local CA under the deployflow home and certificates issued by it,
by Debian's `mkcert` when installed or by the `cryptography` package otherwise (both keep
the CA as rootCA.pem + rootCA-key.pem, so either can issue from the other's CA). Keys are
0600 and every file appears whole (temp file, fsync, rename)."""

from __future__ import annotations

import hashlib
import ipaddress
import socket
import ssl
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from deployflow.backends.executor import Command, resolve_program, run
from deployflow.backends.files import atomic_write
from deployflow.backends.prefect_server import data_dir
from deployflow.errors import CommandError, ConfigError

__all__ = [
    "CA_CERT",
    "CA_KEY",
    "CertInfo",
    "ca_dir",
    "chain_error",
    "ensure_ca",
    "issue",
    "mkcert_program",
    "read_cert",
    "tls_names",
]

CA_CERT, CA_KEY = "rootCA.pem", "rootCA-key.pem"


def ca_dir() -> Path:
    """The local CA's dir under the deployflow home (mkcert's CAROOT when it issues)."""
    return data_dir() / "ca"


@dataclass(frozen=True)
class CertInfo:
    names: list[str]  # DNS names and IP addresses it covers
    serial: str
    issuer: str
    subject: str
    not_before: datetime
    not_after: datetime
    sha256: str


def mkcert_program() -> str | None:
    return resolve_program("mkcert")


def _name(common: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "deployflow local CA"),
            x509.NameAttribute(NameOID.COMMON_NAME, common),
        ]
    )


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def ensure_ca(ca_dir: Path) -> Path:
    """The CA certificate in `ca_dir`, made now (ECDSA P-256, ten years) unless one is there."""
    cert = ca_dir / CA_CERT
    if cert.is_file() and (ca_dir / CA_KEY).is_file():
        return cert
    ca_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    name = _name(f"deployflow CA {socket.gethostname()}")
    built = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .sign(key, hashes.SHA256())
    )
    atomic_write(ca_dir / CA_KEY, _key_pem(key), mode=0o600)
    atomic_write(cert, built.public_bytes(serialization.Encoding.PEM))
    return cert


def _san(names: list[str]) -> x509.SubjectAlternativeName:
    entries: list[x509.GeneralName] = []
    for name in names:
        try:
            entries.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            entries.append(x509.DNSName(name))
    return x509.SubjectAlternativeName(entries)


def _issue_builtin(
    ca_dir: Path, names: list[str], days: int, not_before: datetime | None
) -> tuple[bytes, bytes]:
    ca_cert = _load(ca_dir / CA_CERT)
    try:
        ca_key = serialization.load_pem_private_key((ca_dir / CA_KEY).read_bytes(), None)
    except OSError as exc:
        raise ConfigError(f"cannot read the CA key {ca_dir / CA_KEY}: {exc.strerror}") from None
    except (ValueError, TypeError):
        raise ConfigError(
            f"{ca_dir / CA_KEY} is not a private key; move {ca_dir} aside to make a new CA"
        ) from None
    key = ec.generate_private_key(ec.SECP256R1())
    start = not_before or datetime.now(UTC) - timedelta(minutes=5)
    built = (
        x509.CertificateBuilder()
        .subject_name(_name(names[0]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=days))
        .add_extension(_san(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)
        .sign(ca_key, hashes.SHA256())  # type: ignore[arg-type]
    )
    return built.public_bytes(serialization.Encoding.PEM), _key_pem(key)


def _issue_mkcert(ca_dir: Path, names: list[str]) -> tuple[bytes, bytes]:
    program = mkcert_program()
    if program is None:
        raise ConfigError("mkcert is not installed; run ./scripts/install or use --engine builtin")
    with tempfile.TemporaryDirectory(prefix=".mkcert-", dir=ca_dir) as tmp:
        cert, key = Path(tmp) / "cert.pem", Path(tmp) / "key.pem"
        argv = [program, "-cert-file", cert, "-key-file", key, *names]
        env = {"CAROOT": str(ca_dir)}
        try:
            run(Command.of(argv, env=env, timeout=60))
        except CommandError as exc:
            raise CommandError(f"mkcert failed: {exc}") from None
        return cert.read_bytes(), key.read_bytes()


def issue(
    ca_dir: Path,
    names: list[str],
    cert_path: Path,
    key_path: Path,
    engine: str,
    days: int = 825,
    not_before: datetime | None = None,
) -> CertInfo:
    """A certificate for `names` from the CA in `ca_dir` (made if missing), by `engine`
    (mkcert | builtin; mkcert picks its own validity), written to `cert_path` and `key_path`
    (0600): both appear whole, the key first."""
    ensure_ca(ca_dir)
    if engine == "mkcert":
        cert, key = _issue_mkcert(ca_dir, names)
    else:
        cert, key = _issue_builtin(ca_dir, names, days, not_before)
    atomic_write(key_path, key, mode=0o600)
    atomic_write(cert_path, cert)
    return read_cert(cert_path)


def _load(path: Path) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(path.read_bytes())
    except OSError as exc:
        raise ConfigError(f"cannot read certificate {path}: {exc.strerror}") from None
    except ValueError:
        raise ConfigError(f"{path} is not a PEM certificate") from None


def read_cert(path: Path) -> CertInfo:
    cert = _load(path)
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        names = [str(v) for v in san.get_values_for_type(x509.DNSName)]
        names += [str(v) for v in san.get_values_for_type(x509.IPAddress)]
    except x509.ExtensionNotFound:
        names = []
    return CertInfo(
        names=names,
        serial=format(cert.serial_number, "x"),
        issuer=cert.issuer.rfc4514_string(),
        subject=cert.subject.rfc4514_string(),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        sha256=hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest(),
    )


def chain_error(cert_path: Path, ca_path: Path) -> str | None:
    """Why `cert_path` was not issued by the CA at `ca_path` (None: it was)."""
    cert, ca = _load(cert_path), _load(ca_path)
    try:
        cert.verify_directly_issued_by(ca)
    except (ValueError, TypeError) as exc:
        return f"not issued by the CA at {ca_path} ({exc})"
    except Exception as exc:  # cryptography's InvalidSignature carries no message
        return f"its signature does not verify against the CA at {ca_path} ({type(exc).__name__})"
    return None


def tls_names(host: str, port: int, domain: str, ca_path: Path, timeout: float = 5.0) -> str:
    """A real TLS handshake with `host:port` asking for `domain`, verified against the CA:
    returns the certificate's SHA-256 (raises ConfigError with why it failed)."""
    context = ssl.create_default_context(cafile=str(ca_path))
    try:
        with (
            socket.create_connection((host, port), timeout=timeout) as raw,
            context.wrap_socket(raw, server_hostname=domain) as tls,
        ):
            der = tls.getpeercert(binary_form=True) or b""
    except ssl.SSLCertVerificationError as exc:
        raise ConfigError(f"TLS to {host}:{port} as {domain}: {exc.verify_message}") from None
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"TLS to {host}:{port} as {domain} failed: {exc}") from None
    return hashlib.sha256(der).hexdigest()
