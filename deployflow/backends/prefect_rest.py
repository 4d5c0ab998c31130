"""deployflow's one small Prefect HTTP client: the auth header, retries and the health check,
and the few REST calls the CLI needs to start, follow and cancel a deployment's run, over the
standard library's http.client: no Prefect import (1.5-4.7 s a process on the 2-core host), and
not httpx either (~85 ms of imports, which a foreground warm run pays before it starts)."""

from __future__ import annotations

import base64
import http.client
import json
import os
import time
from typing import Any
from urllib.parse import urlsplit
from uuid import uuid4

from deployflow.errors import DeployflowError

__all__ = ["FINAL", "ApiUnreachable", "PrefectRest"]

FINAL = ("COMPLETED", "FAILED", "CANCELLED", "CRASHED")
BUSY = (429, 502, 503, 504)
RETRIES = 8
REFUSED_RETRIES = 3
TIMEOUT = 30.0


class ApiUnreachable(DeployflowError):
    """The API did not answer, asked again for ~20 s (the server is down or gone)."""


class PrefectRest:
    def __init__(self, url: str, auth: str | None = None, timeout: float = TIMEOUT) -> None:
        self.url = url.rstrip("/")
        parts = urlsplit(self.url)
        self._path = parts.path
        self._headers = {"Content-Type": "application/json", "Accept": "application/json"}
        auth = auth or os.environ.get("PREFECT_API_AUTH_STRING")
        if auth:
            self._headers["Authorization"] = "Basic " + base64.b64encode(auth.encode()).decode()
        kind = (
            http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        )
        self._http = kind(parts.hostname or "127.0.0.1", parts.port, timeout=timeout)

    def health(self) -> int | None:
        """/health's HTTP status, asked once (None: nothing answers)."""
        try:
            return self._send("GET", "/health", None)[0]
        except (OSError, http.client.HTTPException):
            return None

    def _send(self, method: str, path: str, body: Any) -> tuple[int, bytes]:
        """One request on the kept-alive connection (reopened after an error)."""
        data = None if body is None else json.dumps(body).encode()
        try:
            self._http.request(method, self._path + path, body=data, headers=self._headers)
            answer = self._http.getresponse()
            return answer.status, answer.read()
        except (OSError, http.client.HTTPException):
            self._http.close()
            raise

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        """One call; a busy server (429, 502-504, a dropped connection) is asked again, as
        Prefect's own client does, for up to ~30 s; one that refuses connections (nothing
        listens: it is down) for ~1.5 s."""
        delay = 0.2
        for attempt in range(RETRIES + 1):
            try:
                status, content = self._send(method, path, body)
            except (OSError, http.client.HTTPException) as exc:
                refused = isinstance(exc, ConnectionRefusedError) and attempt >= REFUSED_RETRIES
                if attempt == RETRIES or refused:
                    raise ApiUnreachable(
                        f"the Prefect API at {self.url} does not answer ({type(exc).__name__})"
                    ) from None
            else:
                if status not in BUSY or attempt == RETRIES:
                    break
            time.sleep(delay)
            delay = min(delay * 2, 5.0)
        if status == 404:
            return None
        if status >= 400:
            text = content.decode(errors="replace")[:200]
            raise DeployflowError(f"the Prefect API refused {method} {path}: HTTP {status} {text}")
        return json.loads(content) if content else None

    def deployment(self, full_name: str) -> dict[str, Any] | None:
        """A deployment by "flow/name", or None when it was never applied."""
        return self._call("GET", f"/deployments/name/{full_name}")

    def deployments(self, names: list[str]) -> dict[str, str | None]:
        """ "flow/name" -> version of the deployments with these names that exist."""
        body = {"deployments": {"name": {"any_": sorted(set(names))}}, "limit": 200}
        rows = self._call("POST", "/deployments/filter", body) or []
        flows = {r["flow_id"] for r in rows}
        names_of = {}
        if flows:
            found = self._call("POST", "/flows/filter", {"flows": {"id": {"any_": list(flows)}}})
            names_of = {f["id"]: f["name"] for f in found or []}
        return {f"{names_of.get(r['flow_id'], '?')}/{r['name']}": r.get("version") for r in rows}

    def create_run(
        self,
        deployment_id: str,
        parameters: dict[str, Any],
        env: dict[str, str] | None = None,
        key: str | None = None,
    ) -> dict[str, Any]:
        """A scheduled-now run of the deployment, for its pool's worker to pick up; `env` goes
        into the run's process environment (a job variable). Asked again after a dropped
        connection, the server returns the run it made the first time (its idempotency key:
        `key`, else one made for this call), never a second one."""
        body: dict[str, Any] = {"parameters": parameters, "idempotency_key": key or uuid4().hex}
        if env:
            body["job_variables"] = {"env": env}
        return self._call("POST", f"/deployments/{deployment_id}/create_flow_run", body)

    def run(self, run_id: str) -> dict[str, Any]:
        found = self._call("GET", f"/flow_runs/{run_id}")
        if found is None:
            raise DeployflowError(f"flow run {run_id} is gone from the Prefect API")
        return found

    def task_run_names(self, ids: list[str]) -> dict[str, str]:
        """Task run id -> name, for those the API knows yet (a task's first log line can
        arrive before its run is recorded)."""
        body = {"task_runs": {"id": {"any_": ids}}, "limit": len(ids)}
        return {t["id"]: t["name"] for t in self._call("POST", "/task_runs/filter", body) or []}

    def logs(self, run_id: str, offset: int) -> list[dict[str, Any]]:
        """The run's logs (its tasks' too) from `offset`, oldest first."""
        body = {
            "logs": {"flow_run_id": {"any_": [run_id]}},
            "sort": "TIMESTAMP_ASC",
            "offset": offset,
            "limit": 200,
        }
        return self._call("POST", "/logs/filter", body) or []

    def cancel(self, run_id: str) -> None:
        """Ask for cancellation: the worker stops the run, which puts the last release back."""
        state = {"type": "CANCELLING", "name": "Cancelling", "message": "cancelled from the CLI"}
        self._call("POST", f"/flow_runs/{run_id}/set_state", {"state": state, "force": True})

    def crash(self, run_id: str, message: str) -> None:
        """Mark a run whose process is gone Crashed (frees its slot, fires the recover
        automation)."""
        self.mark(run_id, "CRASHED", message)

    def mark(self, run_id: str, state_type: str, message: str) -> None:
        """Put the run in a final state its own process could not report."""
        state = {"type": state_type, "name": state_type.capitalize(), "message": message}
        self._call("POST", f"/flow_runs/{run_id}/set_state", {"state": state, "force": True})

    def close(self) -> None:
        self._http.close()
