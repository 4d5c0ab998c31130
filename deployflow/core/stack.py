"""The stack file model (`deployflow.yaml`): a pydantic model per section, unknown keys refused."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from deployflow.core.stackapp import App, ConfigTarget, Deps, GitSource, Hooks, PythonBuild
from deployflow.core.stackbase import _Model
from deployflow.core.stackdata import (
    CHECK_ENGINES,
    DEFAULT_PORTS,
    Database,
    HealthCheck,
    Migrations,
)
from deployflow.core.webhookconf import WebhookRoute, Webhooks
from deployflow.errors import StackError

__all__ = [
    "DEFAULT_PORTS",
    "App",
    "Backup",
    "BlueGreen",
    "ConfigTarget",
    "Database",
    "Deps",
    "GitSource",
    "HealthCheck",
    "Hooks",
    "Migrations",
    "Notification",
    "Paths",
    "Proxy",
    "PythonBuild",
    "Schedules",
    "SecretRef",
    "Service",
    "Stack",
    "Target",
    "Verify",
    "WebhookRoute",
    "Webhooks",
]

NAME = r"^[a-z0-9][a-z0-9_-]*$"
BackendName = Literal["process", "systemd", "supervisor", "nssm", "docker"]


class SecretRef(_Model):
    """`{secret: NAME}`: read from the environment, the root's 0600 secrets file or generated."""

    secret: Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]
    generate: bool = False
    block: Annotated[str | None, Field(pattern=r"^[a-z0-9][a-z0-9-]*$")] = None  # a Prefect Secret


VarValue = str | int | SecretRef


class Paths(_Model):
    root: str
    keep_releases: Annotated[int, Field(ge=2, le=100)] = 5


class Target(_Model):
    """A host deployflow deploys to through the Prefect worker on its work pool."""

    host: str = "localhost"
    work_pool: str | None = None
    root: str | None = None  # its deploy root (default: paths.root; relative to the stack file)
    vars: dict[str, str | int] = {}  # its own values over the stack's (bind address, ports)
    user: str | None = None  # its worker's system user (root only when named; identity.py)


class Rollout(_Model):
    """How `run full` goes over several targets: all at once, in batches (`rolling`), or one
    target first watched for `watch` seconds (`canary`); more than `max_fail` percent failed
    stops it and rolls back the targets done."""

    strategy: Literal["all-at-once", "rolling", "canary", "blue-green"] = "all-at-once"
    batch: Annotated[str, Field(pattern=r"^([1-9]\d*|([1-9]\d?|100)%)$")] = "1"
    max_fail: Annotated[str, Field(pattern=r"^(\d{1,2}|100)%$")] = "0%"
    watch: Annotated[float, Field(ge=0, le=3600)] = 30.0
    start_timeout: Annotated[float, Field(gt=0, le=3600)] = 60.0  # no worker took it: unreachable


Port = str | int  # a number, or a template of vars (per-target ports)


class BlueGreen(_Model):
    """Two slots (ports) for a service behind the stack's proxy: a new release starts on the
    idle slot, answers `check` there, then traffic switches and the old slot drains and stops.
    The command (or env) takes its slot's port as `{{ slot.port }}`."""

    ports: Annotated[list[Port], Field(min_length=2, max_length=2)]
    check: Annotated[str, Field(pattern=r"^/")] = "/"  # a path answering HTTP 200
    drain: Annotated[float, Field(ge=0, le=3600)] = 30.0  # at most, for in-flight requests


class Proxy(_Model):
    """nginx in front of blue-green services, run by deployflow's process backend under
    `<root>/proxy`; `routes` maps a URL prefix to the service serving it."""

    listen: Port
    host: str = "127.0.0.1"
    routes: dict[str, str] = {}
    # a server per host name (shop.localhost -> web): a blue-green service's slots, or a
    # plain service's port; HTTPS with the same names when listen_tls is set
    hosts: dict[str, str] = {}
    # HTTPS beside it: the certificate `cert` names (<root>/shared/certs/<cert>.pem, made for
    # the listen address on first use unless `deployflow cert generate --name` made it)
    listen_tls: Port | None = None
    cert: Annotated[str | None, Field(pattern=r"^[a-z0-9][a-z0-9.-]{0,99}$")] = None
    redirect_http: bool = False  # plain HTTP answers 308 to the HTTPS listener

    @field_validator("hosts")
    @classmethod
    def _host_names(cls, hosts: dict[str, str]) -> dict[str, str]:
        for name in hosts:
            if not re.match(r"^(?!-)[a-z0-9-]{1,63}(\.(?!-)[a-z0-9-]{1,63})*$", name):
                raise ValueError(f"{name!r} is not a host name (lower-case, e.g. shop.localhost)")
        return hosts

    @model_validator(mode="after")
    def _tls(self) -> Proxy:
        if not self.routes and not self.hosts:
            raise ValueError("name routes (URL prefix -> service) or hosts (name -> service)")
        if (self.listen_tls is None) != (self.cert is None):
            raise ValueError("listen_tls and cert go together (the port and its certificate)")
        if self.redirect_http and self.listen_tls is None:
            raise ValueError("redirect_http needs listen_tls")
        return self


class PostgresServer(_Model):
    """A PostgreSQL server run as a service: deployflow initialises `data` on first start and
    runs it (as the `postgres` user under root); the socket lives in `data`, which a database's
    `admin_socket` then names."""

    data: str
    port: Port
    host: str = "127.0.0.1"


class Service(_Model):
    backend: BackendName = "process"
    postgres: PostgresServer | None = None
    command: str | None = None
    unit: str | None = None
    image: str | None = None
    cwd: str | None = None
    env: dict[str, str] = {}
    port: str | int | None = None
    host: str | None = None  # where it listens; default: its --host/--bind option or 127.0.0.1
    reuse_port: bool = False  # it binds with SO_REUSEPORT: start the new one, then stop the old
    logs: list[str] = []  # log files (globs) it writes itself, e.g. nginx's access and error logs
    prepare: list[str] = []
    creates: str | None = None
    stop_grace: Annotated[float, Field(gt=0, le=300)] = 10.0
    start_timeout: Annotated[float, Field(gt=0, le=600)] = 30.0
    blue_green: BlueGreen | None = None

    @model_validator(mode="after")
    def _needs(self) -> Service:
        if self.blue_green and (self.backend not in ("process", "docker") or self.reuse_port):
            raise ValueError("blue_green runs on the process or docker backend, no reuse_port")
        if self.postgres and (self.command or self.backend != "process" or self.port):
            raise ValueError("postgres: is the whole service: no command or port of its own")
        if self.backend in ("process", "supervisor", "nssm") and not (
            self.command or self.postgres
        ):
            raise ValueError(f"the {self.backend} backend needs a command")
        if self.prepare and not self.creates:
            raise ValueError("prepare needs creates: the path whose absence triggers it")
        return self


class Backup(_Model):
    include: list[Literal["configs", "release", "database", "files"]] = ["configs", "release"]
    keep_minimum: Annotated[int, Field(ge=1)] = 5
    older_than: Annotated[str, Field(pattern=r"^\d+[dhm]$")] = "30d"
    encrypt: bool = False  # AES-256-GCM at rest, with the key in the secret var `key` names
    key: Annotated[str | None, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")] = None

    @model_validator(mode="after")
    def _keyed(self) -> Backup:
        if self.encrypt and self.key is None:
            raise ValueError("encrypt: true needs key: the name of a secret var holding the key")
        return self


class Notification(_Model):
    apprise: str | None = None
    block: Annotated[str | None, Field(pattern=r"^[a-z0-9-]+/[A-Za-z0-9_-]+$")] = None

    @model_validator(mode="after")
    def _one(self) -> Notification:
        if (self.apprise is None) == (self.block is None):
            raise ValueError("give exactly one of apprise (a URL) or block (a Prefect block name)")
        return self


ScheduleText = Annotated[
    str, Field(pattern=r"^(\d+[smh]|\S+( \S+){4})$")
]  # a 5-field cron line, or an interval such as 30s, 5m, 1h


class Schedules(_Model):
    health_watch: ScheduleText | None = None
    cleanup: ScheduleText | None = None
    backup: ScheduleText | None = None
    cert_renew: ScheduleText | None = None  # the cert flow: renew what expires within 30 days


class Thresholds(_Model):
    """Where `deployflow health` and the health watch turn a row yellow (degraded)."""

    cpu: Annotated[float | None, Field(gt=0)] = 90.0  # % of one core, a service's whole tree
    memory_mb: Annotated[float | None, Field(gt=0)] = None
    response_ms: Annotated[float | None, Field(gt=0)] = 1000.0
    disk_gb: Annotated[float | None, Field(ge=0)] = 1.0  # free under the root and data dirs
    failed_jobs: Annotated[int | None, Field(ge=0)] = None  # rows in an app's failed queue


class Health(_Model):
    thresholds: Thresholds = Thresholds()


class Verify(_Model):
    deadline: Annotated[float, Field(gt=0, le=3600)] = 60.0
    interval: Annotated[float, Field(gt=0, le=60)] = 0.5


class Stack(_Model):
    project: Annotated[str, Field(pattern=NAME)]
    environment: Literal["development", "staging", "production"] = "production"
    vars: dict[str, VarValue] = {}
    secrets: list[str] = []  # more var names to mask by value (beyond the secret-like names)
    paths: Paths
    targets: dict[str, Target] = {"local": Target()}
    databases: dict[str, Database] = {}
    configs: list[ConfigTarget] = []
    apps: dict[str, App]
    services: dict[str, Service] = {}
    proxy: Proxy | None = None
    backup: Backup = Backup()
    verify: Verify = Verify()
    health: Health = Health()
    notifications: list[Notification] = []
    schedules: Schedules = Schedules()
    webhooks: Webhooks = Webhooks()
    rollout: Rollout = Rollout()
    approval: Literal["none", "required"] = "none"  # required: a rollout waits to be approved

    @model_validator(mode="after")
    def _references(self) -> Stack:
        if not self.apps:
            raise ValueError("apps: name at least one app")
        for i, route in enumerate(self.webhooks.routes):
            if route.target is not None and route.target not in self.targets:
                raise ValueError(f"webhooks.routes[{i}].target: unknown target {route.target!r}")
            unknown = [a for a in route.apps if a not in self.apps]
            if unknown:
                raise ValueError(f"webhooks.routes[{i}].apps: unknown app {unknown[0]!r}")
            if route.run == "deploy-app" and not route.apps:
                raise ValueError(f"webhooks.routes[{i}]: run deploy-app needs apps")
        for name in [*self.apps, *self.services, *self.databases]:
            if not re.match(NAME, name):
                raise ValueError(f"{name!r}: names are lower-case letters, digits, '-' and '_'")
        for app_name, app in self.apps.items():
            for svc in app.services:
                if svc not in self.services:
                    raise ValueError(f"apps.{app_name}.services: unknown service {svc!r}")
            if app.migrations and app.migrations.database not in self.databases:
                raise ValueError(
                    f"apps.{app_name}.migrations.database: unknown database "
                    f"{app.migrations.database!r}"
                )
            if app.test_database and app.test_database not in self.databases:
                raise ValueError(
                    f"apps.{app_name}.test_database: unknown database {app.test_database!r}"
                )
            if app.queue and app.queue.database not in self.databases:
                raise ValueError(
                    f"apps.{app_name}.queue.database: unknown database {app.queue.database!r}"
                )
            for i, check in enumerate(app.health):
                self._check_database(f"apps.{app_name}.health[{i}]", check)
        owners: dict[str, str] = {}
        for app_name, app in self.apps.items():
            for svc in app.services:
                if svc in owners:
                    raise ValueError(f"services.{svc}: used by apps {owners[svc]} and {app_name}")
                owners[svc] = app_name
        for name, svc in self.services.items():
            built = name in owners and self.apps[owners[name]].docker is not None
            if svc.backend == "docker" and not (svc.image or built):
                raise ValueError(
                    f"services.{name}: the docker backend needs an image, or an app with "
                    "docker: that lists it (its image is built)"
                )
            if svc.backend == "docker" and built and svc.port is None and not svc.blue_green:
                raise ValueError(
                    f"services.{name}: a container needs its port (port:, or blue_green.ports)"
                )
        self._blue_green(owners)
        return self

    def _check_database(self, where: str, check: HealthCheck) -> None:
        if check.database is None:
            return
        db = self.databases.get(check.database)
        if db is None:
            raise ValueError(f"{where}.{check.kind}: unknown database {check.database!r}")
        if db.engine not in CHECK_ENGINES[check.kind]:
            raise ValueError(f"{where}.{check.kind}: database {check.database} is {db.engine}")

    def _blue_green(self, owners: dict[str, str]) -> None:
        routed = set(self.proxy.routes.values()) if self.proxy else set()
        for host, svc in self.proxy.hosts.items() if self.proxy else ():
            spec = self.services.get(svc)
            if spec is None or not (spec.blue_green or spec.port is not None):
                raise ValueError(f"proxy.hosts.{host}: a service with a port or blue_green")
            routed.add(svc)
        for path, svc in self.proxy.routes.items() if self.proxy else ():
            spec = self.services.get(svc)
            if not path.startswith("/") or spec is None or spec.blue_green is None:
                raise ValueError(
                    f"proxy.routes.{path}: a path starting with '/' to a service with blue_green"
                )
        for name, svc in self.services.items():
            if svc.blue_green and (name not in routed or name not in owners):
                raise ValueError(
                    f"services.{name}.blue_green: an app's service that proxy.routes or "
                    "proxy.hosts names"
                )
        if self.rollout.strategy == "blue-green" and not routed:
            raise ValueError("rollout.strategy blue-green needs a proxy routing to a service")

    def migrate_mode(self, app: str) -> str:
        """When an app's release commands run: online (before the stop, while the old release
        serves) by default for apps with blue-green services, offline (after it) otherwise."""
        spec = self.apps[app]
        if spec.migrate is not None:
            return spec.migrate
        return "online" if any(self.services[s].blue_green for s in spec.services) else "offline"

    def selected_apps(self, apps: list[str] | tuple[str, ...] | None) -> list[str]:
        """The apps a run deploys: those named (each must exist), else all of them."""
        if not apps:
            return list(self.apps)
        unknown = [a for a in apps if a not in self.apps]
        if unknown:
            known = ", ".join(self.apps)
            raise StackError(f"unknown app {unknown[0]!r}; the stack has: {known}")
        return list(apps)

    def service_owner(self, service: str) -> str | None:
        """The app whose release a service runs from, or None for infrastructure services."""
        return next((name for name, app in self.apps.items() if service in app.services), None)

    def infrastructure_services(self) -> list[str]:
        return [name for name in self.services if self.service_owner(name) is None]
