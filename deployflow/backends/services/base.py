"""The service backend contract: every backend builds argv (commands as data) and can run them."""

from __future__ import annotations

import shutil
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

from deployflow.backends.executor import Command, run
from deployflow.core.servicespec import ServiceSpec
from deployflow.errors import ServiceError

__all__ = ["ServiceBackend", "ServiceSpec", "ServiceStatus"]


@dataclass(frozen=True)
class ServiceStatus:
    name: str
    backend: str
    running: bool
    pid: int | None = None
    detail: str = ""


class ServiceBackend(ABC):
    """Command-building backends share `start/stop/restart/status` that run their argv."""

    name: str = ""
    tool: str = ""

    @abstractmethod
    def start_argv(self, spec: ServiceSpec) -> list[list[str]]: ...

    @abstractmethod
    def stop_argv(self, spec: ServiceSpec) -> list[list[str]]: ...

    @abstractmethod
    def status_argv(self, spec: ServiceSpec) -> list[str]: ...

    def restart_argv(self, spec: ServiceSpec) -> list[list[str]]:
        return [*self.stop_argv(spec), *self.start_argv(spec)]

    def available(self) -> bool:
        return shutil.which(self.tool) is not None

    def _require(self) -> None:
        if not self.available():
            raise ServiceError(
                f"the {self.name} backend needs `{self.tool}`, which is not on this host; "
                "install it or choose another backend"
            )

    def start(self, spec: ServiceSpec, replace: bool = False) -> ServiceStatus:
        """Start it; with `replace`, a running one is restarted by its manager instead."""
        self._require()
        for argv in self.restart_argv(spec) if replace else self.start_argv(spec):
            run(Command.of(argv, timeout=spec.start_timeout), error=ServiceError)
        return self.status(spec)

    def usage(self, spec: ServiceSpec) -> dict[str, Any] | None:
        """What the backend itself measures of the service (a container's engine stats);
        None: it measures nothing (its process tree is measured instead)."""
        return None

    def runs(self, spec: ServiceSpec) -> bool:
        """Whether this very spec (not an earlier release's) runs; False: it cannot tell."""
        return False

    def starts(self, spec: ServiceSpec) -> list[str] | None:
        """When each start happened (ISO times, oldest first); None: this backend cannot say."""
        return None

    def stop(self, spec: ServiceSpec) -> ServiceStatus:
        self._require()
        for argv in self.stop_argv(spec):
            run(Command.of(argv, timeout=spec.stop_grace + 30), error=ServiceError, check=False)
        return self.status(spec)

    def restart(self, spec: ServiceSpec) -> ServiceStatus:
        self.stop(spec)
        return self.start(spec)

    def status(self, spec: ServiceSpec) -> ServiceStatus:
        if not self.available():
            return ServiceStatus(spec.name, self.name, False, detail=f"{self.tool} not installed")
        result = run(
            Command.of(self.status_argv(spec), timeout=30), error=ServiceError, check=False
        )
        text = result.tail[-1] if result.tail else ""
        return ServiceStatus(spec.name, self.name, result.returncode == 0, detail=text)
