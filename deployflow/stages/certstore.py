"""The stack's certificates: issued from the local CA under the deployflow home into
`<root>/shared/certs/` (`<name>.pem`, `<name>-key.pem` 0600) with `index.json` saying what each
was made for and how, and the proxy's HTTPS certificate made on first use for its listen
address when nobody generated it by name."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from deployflow.backends.certs import ca_dir, issue, mkcert_program
from deployflow.backends.files import atomic_write
from deployflow.core.context import StackContext
from deployflow.core.proxyconf import Tls
from deployflow.errors import ConfigError, UsageError
from deployflow.stages import Log

__all__ = ["cert_name", "certs_dir", "issue_named", "proxy_tls", "read_index"]

INDEX = "index.json"


def certs_dir(ctx: StackContext) -> Path:
    return ctx.layout.certs


def read_index(ctx: StackContext) -> dict[str, dict[str, Any]]:
    path = certs_dir(ctx) / INDEX
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except ValueError:
        raise ConfigError(f"{path} is not JSON; move it aside and generate again") from None


def cert_name(names: list[str], name: str | None) -> str:
    name = name or re.sub(r"[^a-z0-9.-]+", "-", names[0].replace("*", "wildcard")).strip("-.")
    if not re.match(r"^[a-z0-9][a-z0-9.-]{0,99}$", name):
        raise UsageError(f"--name {name!r}: lower-case letters, digits, '.' and '-'")
    return name


def _engine(engine: str) -> str:
    if engine == "auto":
        return "mkcert" if mkcert_program() else "builtin"
    if engine == "mkcert" and mkcert_program() is None:
        raise UsageError("--engine mkcert: mkcert is not installed (apt install mkcert)")
    return engine


def issue_named(
    ctx: StackContext,
    names: list[str],
    name: str,
    engine: str = "auto",
    days: int = 825,
    log: Log = print,
    not_before: datetime | None = None,
) -> dict[str, Any]:
    """A certificate for `names` saved as `<name>.pem` + `<name>-key.pem` and indexed."""
    used = _engine(engine)
    folder = certs_dir(ctx)
    cert, key = folder / f"{name}.pem", folder / f"{name}-key.pem"
    info = issue(ca_dir(), names, cert, key, used, days, not_before)
    index = read_index(ctx)
    index[name] = {
        "domains": names,
        "engine": used,
        "cert": cert.name,
        "key": key.name,
        "serial": info.serial,
        "issuer": info.issuer,
        "not_after": info.not_after.isoformat(),
        "issued_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    atomic_write(folder / INDEX, json.dumps(index, indent=2) + "\n")
    log(f"cert {name}: {', '.join(names)} by {used}, valid until {info.not_after:%Y-%m-%d}")
    return {"name": name, **index[name]}


def proxy_tls(ctx: StackContext, log: Log) -> Tls | None:
    """The proxy's HTTPS listener, its certificate made now for the listen address, localhost
    and the proxy's host names when there is none yet."""
    proxy = ctx.stack.proxy
    if proxy is None or proxy.listen_tls is None or proxy.cert is None:
        return None
    folder = certs_dir(ctx)
    cert, key = folder / f"{proxy.cert}.pem", folder / f"{proxy.cert}-key.pem"
    if not cert.is_file() or not key.is_file():
        host = ctx.render(proxy.host, "proxy.host")
        names = list(dict.fromkeys([host, "localhost", *proxy.hosts]))
        issue_named(ctx, names, proxy.cert, log=log)
    return Tls(ctx.port(proxy.listen_tls, "proxy.listen_tls"), cert, key, proxy.redirect_http)
