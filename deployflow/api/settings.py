"""Where the API keeps what it deploys and how it serves it, from the environment: its home
(uploads, the platform's stack and releases), the domain projects live under, the proxy's
port and the upload limits."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from deployflow.backends.prefect_server import data_dir
from deployflow.errors import ConfigError

__all__ = ["Settings"]

MB = 1 << 20


def _number(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or int(raw) <= 0:
        raise ConfigError(f"{name}={raw!r}: give a positive whole number")
    return int(raw)


@dataclass(frozen=True)
class Settings:
    home: Path  # uploads/<deployment>/, deployflow.yaml (the platform's stack), root/
    domain: str  # a project is served at <subdomain>.<domain>
    proxy_port: int
    max_upload: int  # bytes of tarball
    max_unpacked: int  # bytes it may unpack to (a gzip bomb stops here)
    max_pending: int  # a user's deployments not yet final; more answer 429
    first_port: int  # projects' services get ports from here up
    settle_seconds: int  # a killed run's root may stay locked this long (its flow run going on)

    @classmethod
    def from_env(cls) -> Settings:
        upload = _number("DEPLOYFLOW_API_MAX_UPLOAD_MB", 100) * MB
        return cls(
            home=Path(os.environ.get("DEPLOYFLOW_API_HOME") or data_dir() / "api"),
            domain=os.environ.get("DEPLOYFLOW_API_DOMAIN") or "localhost",
            proxy_port=_number("DEPLOYFLOW_API_PROXY_PORT", 8780),
            max_upload=upload,
            max_unpacked=_number("DEPLOYFLOW_API_MAX_UNPACKED_MB", 10 * upload // MB) * MB,
            max_pending=_number("DEPLOYFLOW_API_MAX_PENDING", 3),
            first_port=_number("DEPLOYFLOW_API_FIRST_PORT", 9100),
            settle_seconds=_number("DEPLOYFLOW_API_SETTLE_SECONDS", 600),
        )

    @property
    def stack_file(self) -> Path:
        return self.home / "deployflow.yaml"

    @property
    def root(self) -> Path:
        return self.home / "root"

    def source(self, deployment_id: int) -> Path:
        return self.home / "uploads" / str(deployment_id) / "src"

    def url(self, subdomain: str) -> str:
        return f"http://{subdomain}.{self.domain}:{self.proxy_port}/"
