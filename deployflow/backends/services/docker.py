"""Containers through the docker CLI; ports are published on 127.0.0.1 only."""

from __future__ import annotations

from deployflow.backends.services.base import ServiceBackend, ServiceStatus
from deployflow.core.servicespec import ServiceSpec

__all__ = ["DockerBackend"]


class DockerBackend(ServiceBackend):
    name = "docker"
    tool = "docker"

    def start_argv(self, spec: ServiceSpec) -> list[list[str]]:
        argv = ["docker", "run", "-d", "--name", spec.unit, "--restart", "unless-stopped"]
        if spec.port:
            argv += ["-p", f"127.0.0.1:{spec.port}:{spec.port}"]
        if spec.env_file:
            argv += ["--env-file", str(spec.env_file)]
        for key, value in sorted(spec.env.items()):
            argv += ["-e", f"{key}={value}"]
        argv.append(str(spec.image))
        return [argv + spec.command]

    def stop_argv(self, spec: ServiceSpec) -> list[list[str]]:
        grace = str(int(spec.stop_grace))
        return [["docker", "stop", "-t", grace, spec.unit], ["docker", "rm", "-f", spec.unit]]

    def status_argv(self, spec: ServiceSpec) -> list[str]:
        return ["docker", "inspect", "-f", "{{.State.Running}}", spec.unit]

    def status(self, spec: ServiceSpec) -> ServiceStatus:
        status = super().status(spec)
        running = status.running and status.detail.strip() == "true"
        return ServiceStatus(spec.name, self.name, running, detail=status.detail)
