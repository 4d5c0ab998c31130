"""Many checks at once: HTTP and TCP checks on one event loop (one httpx.AsyncClient, one TLS
context, a hard bound of each check's own timeout), WebSocket and database checks in threads
beside it. A sweep of N endpoints costs about one timeout, not N."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from deployflow.core.context import ResolvedDatabase
from deployflow.core.healthplan import CheckSpec
from deployflow.probes.base import ProbeResult
from deployflow.probes.checks import judge_http, probe_for, tls_context

__all__ = ["THREADS", "sweep_checks"]

THREADS = 16  # for the blocking kinds (ws, mysql), which a stack has few of


async def _timed(name: str, work: Awaitable[tuple[bool, str]], timeout: float) -> ProbeResult:
    started = time.monotonic()
    try:
        ok, detail = await asyncio.wait_for(work, timeout)
    except TimeoutError:
        ok, detail = False, f"no answer in {timeout:g} s"
    except Exception as exc:  # a probe reports every failure as data, never raises
        ok, detail = False, f"{type(exc).__name__}: {exc}"[:300]
    return ProbeResult(name, ok, detail, (time.monotonic() - started) * 1000)


async def _http(client: Any, spec: CheckSpec) -> tuple[bool, str]:
    response = await client.get(spec.target, timeout=spec.timeout)
    return judge_http(response, spec.status, spec.json_subset or None, spec.contains)


async def _tcp(spec: CheckSpec) -> tuple[bool, str]:
    host, _, port = spec.target.rpartition(":")
    _reader, writer = await asyncio.open_connection(host, int(port))
    writer.close()
    return True, "port open"


async def _all(
    checks: list[CheckSpec], database: Callable[[str], ResolvedDatabase]
) -> list[ProbeResult]:
    import httpx

    loop = asyncio.get_running_loop()
    http = sum(c.kind == "http" for c in checks)
    limits = httpx.Limits(max_connections=max(http, 1), max_keepalive_connections=0)
    with ThreadPoolExecutor(max_workers=THREADS) as threads:
        async with httpx.AsyncClient(
            verify=tls_context(), follow_redirects=True, limits=limits
        ) as client:
            jobs: list[Awaitable[ProbeResult]] = []
            for spec in checks:
                if spec.kind == "http" and not spec.insecure:
                    jobs.append(_timed(f"http {spec.target}", _http(client, spec), spec.timeout))
                elif spec.kind == "tcp":
                    jobs.append(_timed(f"tcp {spec.target}", _tcp(spec), spec.timeout))
                else:  # blocking clients (and unverified https), each within its timeout
                    jobs.append(loop.run_in_executor(threads, probe_for(spec, database)))
            return list(await asyncio.gather(*jobs))


def sweep_checks(
    checks: list[CheckSpec], database: Callable[[str], ResolvedDatabase]
) -> list[ProbeResult]:
    """Every check at once, results in the checks' order."""
    if not checks:
        return []
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(_all(checks, database))
    results: list[list[ProbeResult]] = []  # called from async code: a loop of its own
    worker = threading.Thread(target=lambda: results.append(asyncio.run(_all(checks, database))))
    worker.start()
    worker.join()
    return results[0]
