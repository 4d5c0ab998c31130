"""systemd, supervisor and NSSM: service managers driven by their CLIs (commands as data)."""

from __future__ import annotations

from deployflow.backends.services.base import ServiceBackend
from deployflow.core.servicespec import ServiceSpec

__all__ = ["NssmBackend", "SupervisorBackend", "SystemdBackend"]


class SystemdBackend(ServiceBackend):
    name = "systemd"
    tool = "systemctl"

    def start_argv(self, spec: ServiceSpec) -> list[list[str]]:
        return [["systemctl", "start", spec.unit]]

    def stop_argv(self, spec: ServiceSpec) -> list[list[str]]:
        return [["systemctl", "stop", spec.unit]]

    def restart_argv(self, spec: ServiceSpec) -> list[list[str]]:
        return [["systemctl", "restart", spec.unit]]

    def status_argv(self, spec: ServiceSpec) -> list[str]:
        return ["systemctl", "is-active", "--quiet", spec.unit]


class SupervisorBackend(ServiceBackend):
    name = "supervisor"
    tool = "supervisorctl"

    def start_argv(self, spec: ServiceSpec) -> list[list[str]]:
        return [["supervisorctl", "start", spec.unit]]

    def stop_argv(self, spec: ServiceSpec) -> list[list[str]]:
        return [["supervisorctl", "stop", spec.unit]]

    def restart_argv(self, spec: ServiceSpec) -> list[list[str]]:
        return [["supervisorctl", "restart", spec.unit]]

    def status_argv(self, spec: ServiceSpec) -> list[str]:
        return ["supervisorctl", "status", spec.unit]


class NssmBackend(ServiceBackend):
    """Windows services through NSSM; `install_argv` registers the command once."""

    name = "nssm"
    tool = "nssm"

    def install_argv(self, spec: ServiceSpec) -> list[list[str]]:
        argv = [["nssm", "install", spec.unit, *spec.command]]
        if spec.cwd:
            argv.append(["nssm", "set", spec.unit, "AppDirectory", str(spec.cwd)])
        if spec.log_file:
            argv.append(["nssm", "set", spec.unit, "AppStdout", str(spec.log_file)])
            argv.append(["nssm", "set", spec.unit, "AppStderr", str(spec.log_file)])
        return argv

    def start_argv(self, spec: ServiceSpec) -> list[list[str]]:
        return [["nssm", "start", spec.unit]]

    def stop_argv(self, spec: ServiceSpec) -> list[list[str]]:
        return [["nssm", "stop", spec.unit]]

    def restart_argv(self, spec: ServiceSpec) -> list[list[str]]:
        return [["nssm", "restart", spec.unit]]

    def status_argv(self, spec: ServiceSpec) -> list[str]:
        return ["nssm", "status", spec.unit]
