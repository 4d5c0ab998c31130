"""HTTP (httpx), WebSocket (websocket-client), MySQL (PyMySQL), PostgreSQL (psycopg) and TCP
probes."""

from __future__ import annotations

import functools
import json
import socket
import time
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from deployflow.core.context import ResolvedDatabase
from deployflow.core.healthplan import CheckSpec
from deployflow.probes.base import ProbeResult

__all__ = [
    "database_probe",
    "http_probe",
    "judge_http",
    "mysql_probe",
    "postgres_probe",
    "probe_for",
    "sqlite_probe",
    "tcp_probe",
    "timed",
    "tls_context",
    "ws_probe",
]


def timed(name: str, fn: Callable[[], tuple[bool, str]]) -> ProbeResult:
    started = time.monotonic()
    try:
        ok, detail = fn()
    except Exception as exc:  # a probe reports every failure as data, never raises
        ok, detail = False, f"{type(exc).__name__}: {exc}"[:300]
    return ProbeResult(name, ok, detail, (time.monotonic() - started) * 1000)


INSECURE = " (TLS not verified: insecure)"


def tls_context() -> Any:
    """One TLS context for every probe: the system's CA bundle and deployflow's local CA (the
    one `deployflow cert` issues from), so https checks of the stack's own certificates verify.
    Building it costs ~50 ms of CPU, which a sweep of many endpoints would otherwise pay per
    endpoint: it is made once per local CA file."""
    from deployflow.backends.certs import CA_CERT, ca_dir

    local = ca_dir() / CA_CERT
    try:
        stamp = local.stat().st_mtime_ns
    except OSError:
        stamp = None
    return _context(str(local) if stamp is not None else None, stamp)


@functools.cache
def _context(local_ca: str | None, _stamp: int | None) -> Any:
    import httpx

    context = httpx.create_ssl_context()
    if local_ca is not None:
        context.load_verify_locations(cafile=local_ca)
    return context


def judge_http(
    response: Any, status: int, json_subset: Mapping[str, Any] | None, contains: str | None
) -> tuple[bool, str]:
    """(ok, detail) of an HTTP response against what the check expects."""
    if response.status_code != status:
        return False, f"HTTP {response.status_code} (want {status})"
    if contains is not None and contains not in response.text:
        return False, f"body lacks {contains!r}"
    if json_subset:
        try:
            body = response.json()
        except json.JSONDecodeError:
            return False, "body is not JSON"
        for key, want in json_subset.items():
            if str(body.get(key)) != str(want):
                return False, f"{key}={body.get(key)!r} (want {want!r})"
    return True, f"HTTP {response.status_code}"


def http_probe(
    url: str,
    *,
    status: int = 200,
    json_subset: Mapping[str, Any] | None = None,
    contains: str | None = None,
    timeout: float = 3.0,
    insecure: bool = False,
) -> ProbeResult:
    import httpx

    def check() -> tuple[bool, str]:
        verify = False if insecure else tls_context()
        response = httpx.get(url, timeout=timeout, follow_redirects=True, verify=verify)
        ok, detail = judge_http(response, status, json_subset, contains)
        return ok, detail + (INSECURE if insecure else "")

    return timed(f"http {url}", check)


def ws_probe(
    url: str, *, send: str | None = None, reply: str | None = None, timeout: float = 3.0
) -> ProbeResult:
    import websocket

    def check() -> tuple[bool, str]:
        conn = websocket.create_connection(url, timeout=timeout)
        try:
            if send is None:
                return True, "connected"
            conn.send(send)
            answer = conn.recv()
            text = answer.decode() if isinstance(answer, bytes) else str(answer)
            if reply is not None and reply not in text:
                return False, f"reply {text[:80]!r} lacks {reply!r}"
            return True, f"reply {text[:80]!r}"
        finally:
            conn.close()

    return timed(f"ws {url}", check)


def tcp_probe(host: str, port: int, *, timeout: float = 3.0) -> ProbeResult:
    def check() -> tuple[bool, str]:
        with socket.create_connection((host, port), timeout=timeout):
            return True, "port open"

    return timed(f"tcp {host}:{port}", check)


def mysql_probe(
    *, host: str, port: int, user: str, password: str, database: str, timeout: float = 3.0
) -> ProbeResult:
    import pymysql

    def check() -> tuple[bool, str]:
        conn = pymysql.connect(
            host=host,
            port=port,
            user=user,
            password=password,
            database=database,
            connect_timeout=max(1, int(timeout)),
            read_timeout=max(1, int(timeout)),
        )
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT VERSION()")
                (version,) = cur.fetchone()
            return True, f"server {version}"
        finally:
            conn.close()

    return timed(f"mysql {user}@{host}:{port}/{database}", check)


def postgres_probe(
    *, host: str, port: int, user: str, password: str, database: str, timeout: float = 3.0
) -> ProbeResult:
    import psycopg

    def check() -> tuple[bool, str]:
        with psycopg.connect(
            host=host,
            port=port,
            user=user,
            password=password,
            dbname=database,
            connect_timeout=max(2, int(timeout)),
            options=f"-c statement_timeout={int(timeout * 1000)}",
        ) as conn:
            version = conn.execute("SHOW server_version").fetchone()[0]
        return True, f"server {version}"

    return timed(f"postgres {user}@{host}:{port}/{database}", check)


def sqlite_probe(path: str, *, timeout: float = 3.0) -> ProbeResult:
    """The file opens read-only and passes `PRAGMA quick_check` (not created yet: its
    directory must be writable)."""
    import os
    import sqlite3

    def check() -> tuple[bool, str]:
        if not os.path.exists(path):
            parent = os.path.dirname(path)
            writable = os.access(parent, os.W_OK) if os.path.isdir(parent) else True
            return writable, "not created yet" if writable else f"{parent} is not writable"
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=timeout)
        try:
            verdict = conn.execute("PRAGMA quick_check").fetchone()[0]
        finally:
            conn.close()
        return verdict == "ok", f"quick_check {verdict}"

    return timed(f"sqlite {path}", check)


def probe_for(
    spec: CheckSpec, database: Callable[[str], ResolvedDatabase]
) -> Callable[[], ProbeResult]:
    """The probe call for a check spec; `database` resolves a database check's name."""
    if spec.kind == "http":
        return partial(
            http_probe,
            spec.target,
            status=spec.status,
            json_subset=spec.json_subset or None,
            contains=spec.contains,
            timeout=spec.timeout,
            insecure=spec.insecure,
        )
    if spec.kind == "ws":
        return partial(
            ws_probe, spec.target, send=spec.send, reply=spec.reply, timeout=spec.timeout
        )
    if spec.kind == "tcp":
        host, _, port = spec.target.rpartition(":")
        return partial(tcp_probe, host, int(port), timeout=spec.timeout)
    return database_probe(database(spec.target), spec.timeout)


def database_probe(db: ResolvedDatabase, timeout: float = 3.0) -> Callable[[], ProbeResult]:
    """Log in to a database the way its app does (SQLite: open its file)."""
    if db.engine == "sqlite":
        return partial(sqlite_probe, db.database, timeout=timeout)
    return partial(
        postgres_probe if db.engine == "postgresql" else mysql_probe,
        host=db.host,
        port=db.port,
        user=db.user,
        password=db.password.get_secret_value(),
        database=db.database,
        timeout=timeout,
    )
