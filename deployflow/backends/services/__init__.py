"""Service backends behind one contract; `get_backend(name)` is the factory."""

from __future__ import annotations

from deployflow.backends.services.base import ServiceBackend, ServiceStatus
from deployflow.backends.services.docker import DockerBackend
from deployflow.backends.services.managers import NssmBackend, SupervisorBackend, SystemdBackend
from deployflow.backends.services.process import ProcessBackend
from deployflow.core.servicespec import ServiceSpec
from deployflow.errors import ServiceError

__all__ = ["BACKENDS", "ServiceBackend", "ServiceSpec", "ServiceStatus", "get_backend"]

BACKENDS: dict[str, type[ServiceBackend]] = {
    "process": ProcessBackend,
    "systemd": SystemdBackend,
    "supervisor": SupervisorBackend,
    "nssm": NssmBackend,
    "docker": DockerBackend,
}


def get_backend(name: str) -> ServiceBackend:
    try:
        return BACKENDS[name]()
    except KeyError:
        known = ", ".join(BACKENDS)
        raise ServiceError(f"unknown service backend {name!r}; use one of {known}") from None
