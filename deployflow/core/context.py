"""A loaded stack: the validated model, its resolved vars and where it deploys to."""

from __future__ import annotations

import getpass
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from deployflow.core.layout import Layout
from deployflow.core.redact import Redactor
from deployflow.core.render import render_string
from deployflow.core.stack import DEFAULT_PORTS, Database, Stack
from deployflow.errors import ConfigError

__all__ = ["ResolvedDatabase", "StackContext"]


@dataclass(frozen=True)
class ResolvedDatabase:
    name: str
    engine: str
    host: str
    port: int
    database: str
    user: str
    password: SecretStr
    admin_socket: str | None
    admin_url: SecretStr | None = None


@dataclass(frozen=True)
class StackContext:
    stack: Stack
    stack_file: Path
    root: Path
    plain: dict[str, str]
    secrets: dict[str, SecretStr]
    target: str | None = None  # the target this context deploys (its root and vars applied)
    roots: dict[str, Path] = field(default_factory=dict)  # every target's root, resolved alike
    sources: dict[str, Path] = field(default_factory=dict)  # git apps: their exported commit

    @property
    def stack_dir(self) -> Path:
        return self.stack_file.parent

    @property
    def layout(self) -> Layout:
        return Layout(self.root)

    @property
    def redact(self) -> Redactor:
        return Redactor(s.get_secret_value() for s in self.secrets.values())

    def variables(self, release_id: str | None = None, app: str | None = None) -> dict[str, Any]:
        """The Jinja context: vars (secrets revealed), paths, sys, release, app."""
        lay = self.layout
        return {
            **self.plain,
            **{k: v.get_secret_value() for k, v in self.secrets.items()},
            "project": self.stack.project,
            "environment": self.stack.environment,
            "paths": {
                "root": str(lay.root),
                "current": str(lay.current),
                "shared": str(lay.shared),
                "logs": str(lay.logs),
                "run": str(lay.run),
            },
            "sys": {"python": sys.executable, "user": getpass.getuser()},
            "release": {"id": release_id} if release_id else {},
            "app": {"name": app} if app else {},
        }

    def render(
        self,
        text: str,
        where: str,
        release_id: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> str:
        return render_string(text, {**self.variables(release_id), **(extra or {})}, where)

    def port(self, value: str | int, where: str) -> int:
        """A port from a number or a template of vars; anything else is a config error."""
        text = self.render(str(value), where)
        if not text.isdigit() or not 0 < int(text) < 65536:
            raise ConfigError(f"{where}: {text!r} is not a port number (1-65535)")
        return int(text)

    def database(self, name: str) -> ResolvedDatabase:
        spec: Database = self.stack.databases[name]
        where = f"databases.{name}"
        if spec.path is not None:  # SQLite: its file is the database
            path = Path(self.render(spec.path, f"{where}.path"))
            file = str(path if path.is_absolute() else self.layout.shared / path)
            return ResolvedDatabase(name, spec.engine, "", 0, file, "", SecretStr(""), None)
        port = self.render(str(spec.port or DEFAULT_PORTS[spec.engine]), f"{where}.port")
        return ResolvedDatabase(
            name=name,
            engine=spec.engine,
            host=self.render(spec.host, f"{where}.host"),
            port=int(port) if port.isdigit() else 0,
            database=self.render(str(spec.name), f"{where}.name"),
            user=self.render(str(spec.user), f"{where}.user"),
            password=SecretStr(self.render(str(spec.password), f"{where}.password")),
            admin_socket=self.render(spec.admin_socket, f"{where}.admin_socket")
            if spec.admin_socket
            else None,
            admin_url=SecretStr(self.render(spec.admin_url, f"{where}.admin_url"))
            if spec.admin_url
            else None,
        )

    def service_port(self, name: str) -> int | None:
        svc = self.stack.services[name]
        port = svc.postgres.port if svc.postgres else svc.port
        if port is None:
            return None
        value = self.render(str(port), f"services.{name}.port")
        return int(value) if value.isdigit() else None
