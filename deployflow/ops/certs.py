"""`deployflow cert`: certificates for the stack's domains and IPs from a local CA (under the
deployflow home), kept in `<root>/shared/certs/` with an index of what each was made for, so
`info`, `verify` and `renew` read them back; `trust` puts the CA in the system store."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from deployflow.backends.catrust import trust_ca
from deployflow.backends.certs import (
    CA_CERT,
    ca_dir,
    chain_error,
    ensure_ca,
    read_cert,
    tls_names,
)
from deployflow.backends.lock import deploy_lock
from deployflow.core.certnames import covers, expiry_grade
from deployflow.core.context import StackContext
from deployflow.errors import ConfigError, DeployflowError
from deployflow.stages import Log
from deployflow.stages.certstore import cert_name, certs_dir, issue_named, read_index
from deployflow.stages.notify import send_notifications
from deployflow.stages.slots import reload_if_running

__all__ = ["cert_rows", "generate", "renew", "renew_and_notify", "trust", "verify"]


def generate(
    ctx: StackContext,
    names: list[str],
    name: str | None = None,
    engine: str = "auto",
    days: int = 825,
    log: Log = print,
    not_before: datetime | None = None,
) -> dict[str, Any]:
    """A certificate for `names` (parsed already), under the deploy lock (a deploy may be
    making the proxy's); the proxy serving it is reloaded."""
    with deploy_lock(ctx.layout.lock, "cert generate"):
        record = issue_named(ctx, names, cert_name(names, name), engine, days, log, not_before)
    if record["name"] in _proxy_users(ctx):
        reload_if_running(ctx, log)
    return record


def _proxy_users(ctx: StackContext) -> dict[str, list[str]]:
    proxy = ctx.stack.proxy
    if proxy is None or proxy.cert is None:
        return {}
    return {proxy.cert: [f"{proxy.host}:{proxy.listen_tls}"]}


def cert_rows(ctx: StackContext, now: datetime | None = None) -> list[dict[str, Any]]:
    """Each recorded certificate as read back from its file: names, issuer, validity, days
    left, its grade and the proxy listeners that serve it."""
    now = now or datetime.now(UTC)
    users = _proxy_users(ctx)
    rows = []
    for name, entry in sorted(read_index(ctx).items()):
        path = certs_dir(ctx) / entry["cert"]
        try:
            info = read_cert(path)
        except ConfigError as exc:
            rows.append({"name": name, "grade": "down", "detail": str(exc), "domains": []})
            continue
        grade, detail = expiry_grade(info.not_before, info.not_after, now)
        rows.append(
            {
                "name": name,
                "domains": info.names,
                "issuer": info.issuer,
                "serial": info.serial,
                "not_before": info.not_before.isoformat(),
                "not_after": info.not_after.isoformat(),
                "days_left": (info.not_after - now).days,
                "grade": grade,
                "detail": detail,
                "engine": entry.get("engine"),
                "file": str(path),
                "used_by": users.get(name, []),
            }
        )
    return rows


def _check(name: str, ok: bool, detail: str) -> dict[str, Any]:
    return {"check": name, "ok": ok, "detail": detail}


def verify(ctx: StackContext, domain: str, now: datetime | None = None) -> list[dict[str, Any]]:
    """The checks a certificate for `domain` passes or fails: one recorded covers it, its
    chain leads to the CA, it is within its validity, and (when the proxy serves TLS and is
    up) a live handshake presents it, verified against the CA."""
    now = now or datetime.now(UTC)
    ca = ca_dir() / CA_CERT
    found = [
        (name, entry)
        for name, entry in sorted(read_index(ctx).items())
        if covers(entry.get("domains", []), domain)
    ]
    if not found:
        return [_check("covered", False, f"no certificate covers {domain}; cert generate first")]
    name, entry = found[0]
    path = certs_dir(ctx) / entry["cert"]
    info = read_cert(path)
    checks = [_check("covered", covers(info.names, domain), f"{name}: {', '.join(info.names)}")]
    problem = chain_error(path, ca) if ca.is_file() else f"no CA at {ca}"
    checks.append(_check("chain", problem is None, problem or f"issued by {info.issuer}"))
    grade, detail = expiry_grade(info.not_before, info.not_after, now)
    checks.append(_check("expiry", grade != "down", detail))
    proxy = ctx.stack.proxy
    if proxy is not None and proxy.listen_tls is not None and proxy.cert == name:
        try:
            port = ctx.port(proxy.listen_tls, "proxy.listen_tls")
            served = tls_names(proxy.host, port, domain, ca)
            same = served == info.sha256
            checks.append(
                _check(
                    "live TLS",
                    same,
                    f"{proxy.host}:{port} presents "
                    + ("this certificate" if same else "another certificate (reload the proxy)"),
                )
            )
        except ConfigError as exc:
            checks.append(_check("live TLS", False, str(exc)))
    return checks


def renew(
    ctx: StackContext, within_days: int = 30, dry_run: bool = False, log: Log = print
) -> list[str]:
    """Re-issue each recorded certificate expiring within `within_days` (or unreadable)."""
    due = [
        row["name"]
        for row in cert_rows(ctx)
        if row["grade"] == "down" or row.get("days_left", 0) < within_days
    ]
    index = read_index(ctx)
    for name in due:
        if dry_run:
            log(f"cert {name}: would renew ({', '.join(index[name]['domains'])})")
            continue
        issue_named(ctx, index[name]["domains"], name, index[name].get("engine", "auto"), log=log)
    if any(name in _proxy_users(ctx) for name in due) and not dry_run:
        reload_if_running(ctx, log)
    if not due:
        log(f"cert: nothing expires within {within_days} days")
    return due


def renew_and_notify(ctx: StackContext, within_days: int, log: Log) -> dict[str, Any]:
    """The `cert` flow: renew under the root's lock, then tell the stack's notification
    targets what was renewed, or that renewing failed (and re-raise)."""
    project = ctx.stack.project
    try:
        with deploy_lock(ctx.layout.lock, "cert renew"):
            renewed = renew(ctx, within_days, log=log)
    except DeployflowError as exc:
        send_notifications(ctx, f"{project} cert renewal FAILED", ctx.redact(str(exc)), log)
        raise
    if renewed:
        body = "renewed: " + ", ".join(renewed)
        send_notifications(ctx, f"{project} certificates renewed", body, log)
    return {"renewed": renewed, "certs": {r["name"]: r["grade"] for r in cert_rows(ctx)}}


def trust(log: Log = print, prefix: str | None = None) -> Path:
    """Install the CA into the system trust store. `prefix` (or DEPLOYFLOW_TRUST_PREFIX) roots
    the store elsewhere: a chroot, or a test."""
    ca = ensure_ca(ca_dir())
    prefix = prefix if prefix is not None else os.environ.get("DEPLOYFLOW_TRUST_PREFIX", "")
    dest = trust_ca(ca, prefix)
    log(f"trusted: {dest} (from {ca})")
    return dest
