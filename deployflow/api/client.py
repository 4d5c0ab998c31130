"""The API as the CLI uses it: the saved login (URL and key, 0600 in the user's config),
requests with the key, an upload that reports its progress, and the log stream over a
WebSocket. Errors become one line saying what to do."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from deployflow.backends.files import atomic_write
from deployflow.backends.treeops import remove
from deployflow.errors import ConfigError, DeployflowError, UsageError

__all__ = ["Client", "Login", "config_file", "forget", "log_in", "remember", "saved"]


def config_file() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "deployflow" / "api.json"


@dataclass(frozen=True)
class Login:
    url: str
    api_key: str


def remember(login: Login) -> Path:
    path = config_file()
    atomic_write(path, json.dumps({"url": login.url, "api_key": login.api_key}), mode=0o600)
    return path


def forget() -> bool:
    path = config_file()
    existed = path.exists()
    remove(path)
    return existed


def saved() -> Login:
    """The login: DEPLOYFLOW_API_URL and DEPLOYFLOW_API_KEY when set, else the saved one."""
    url, key = os.environ.get("DEPLOYFLOW_API_URL"), os.environ.get("DEPLOYFLOW_API_KEY")
    if url and key:
        return Login(url.rstrip("/"), key)
    path = config_file()
    try:
        data = json.loads(path.read_text())
        return Login(str(data["url"]).rstrip("/"), str(data["api_key"]))
    except FileNotFoundError:
        raise UsageError("not logged in: run `deployflow login --url URL` first") from None
    except (ValueError, KeyError, TypeError):
        raise ConfigError(f"{path} is not a saved login; run `deployflow login` again") from None


def log_in(url: str, email: str, password: str) -> Login:
    """A fresh key for the account (POST /auth/login)."""
    import httpx

    url = url.rstrip("/")
    try:
        answer = httpx.post(
            f"{url}/auth/login", json={"email": email, "password": password}, timeout=30
        )
    except httpx.HTTPError as exc:
        raise DeployflowError(f"the API at {url} does not answer ({exc})") from None
    if answer.status_code != 200:
        try:
            detail = answer.json().get("detail")
        except ValueError:
            detail = answer.text[:200]
        raise DeployflowError(f"login at {url} refused: {answer.status_code} {detail}")
    return Login(url, answer.json()["api_key"])


class _Counted:
    """A file read in blocks, each block's size told to `progress`."""

    def __init__(self, handle: BinaryIO, progress: Callable[[int], None]) -> None:
        self._handle, self._progress = handle, progress

    def read(self, size: int = -1) -> bytes:
        block = self._handle.read(size)
        self._progress(len(block))
        return block


class Client:
    def __init__(self, login: Login) -> None:
        import httpx

        self.login = login
        self._http = httpx.Client(
            base_url=login.url, headers={"X-API-Key": login.api_key}, timeout=60
        )

    def _call(self, method: str, path: str, **kw: Any) -> Any:
        import httpx

        try:
            answer = self._http.request(method, path, **kw)
        except httpx.HTTPError as exc:
            raise DeployflowError(f"the API at {self.login.url} does not answer ({exc})") from None
        if answer.status_code >= 400:
            try:
                detail = answer.json().get("detail")
            except ValueError:
                detail = answer.text[:200]
            if answer.status_code == 401:
                detail = f"{detail}; run `deployflow login`"
            raise DeployflowError(f"{method} {path}: {answer.status_code} {detail}")
        return answer.json() if answer.content else None

    def projects(self) -> list[dict]:
        return self._call("GET", "/projects")

    def project(self, name: str, create: bool = False) -> dict:
        for project in self.projects():
            if project["name"] == name:
                return project
        if not create:
            raise UsageError(f"no project {name!r}; `deployflow status` lists yours")
        return self._call("POST", "/projects", json={"name": name})

    def deployments(self, project_id: int) -> list[dict]:
        return self._call("GET", f"/projects/{project_id}/deployments")

    def deployment(self, deployment_id: int) -> dict:
        return self._call("GET", f"/deployments/{deployment_id}")

    def upload(
        self, project_id: int, archive: Path, commit: str | None, progress: Callable[[int], None]
    ) -> dict:
        with archive.open("rb") as handle:
            files = {"source": ("source.tar.gz", _Counted(handle, progress), "application/gzip")}
            data = {"commit": commit} if commit else {}
            return self._call("POST", f"/projects/{project_id}/deployments", files=files, data=data)

    def stream(self, deployment_id: int) -> Iterator[dict]:
        """The deployment's log lines as they come, then its final state."""
        import websocket

        url = self.login.url.replace("http", "ws", 1)
        url += f"/deployments/{deployment_id}/logs/stream"
        try:
            ws = websocket.create_connection(url, header=[f"X-API-Key: {self.login.api_key}"])
        except (OSError, websocket.WebSocketException) as exc:
            raise DeployflowError(f"cannot follow the log at {url} ({exc})") from None
        try:
            while True:
                try:
                    raw = ws.recv()
                except websocket.WebSocketConnectionClosedException:
                    return
                if not raw:
                    return
                message = json.loads(raw)
                yield message
                if "line" not in message:  # the final state, or a refusal
                    return
        finally:
            ws.close()
