"""Containers on the Docker engine, through the docker SDK: run with the spec's limits,
restart policy, labels, shared dirs mounted, the app's environment (its env_file read as it
starts, so secrets reach the container's env only, never an image), its port published on
127.0.0.1; an init as PID 1 (so the stop signal reaches the app); stopped with the grace period,
then killed, then removed."""

from __future__ import annotations

import contextlib
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from deployflow.backends.services.base import ServiceBackend, ServiceStatus
from deployflow.backends.services.process import env_file_values
from deployflow.backends.treeops import make_dir
from deployflow.core.servicespec import ServiceSpec
from deployflow.errors import ServiceError

__all__ = ["DockerBackend"]


def _client() -> Any:
    from deployflow.backends.dockerd import docker_client, engine_status

    status = engine_status()
    if not status.running:
        start = (
            "start it, or unset DOCKER_HOST for deployflow's own engine"
            if status.external
            else "`deployflow docker start` starts it"
        )
        raise ServiceError(
            f"the Docker engine does not answer at {status.url} ({status.detail}); {start}"
        )
    return docker_client()


def _container(client: Any, unit: str) -> Any | None:
    import docker.errors

    try:
        return client.containers.get(unit)
    except docker.errors.NotFound:
        return None


def _oom_kills(client: Any, container: Any) -> int:
    """How often the kernel OOM-killed it since it was created (the engine's `oom` events;
    its State.OOMKilled is cleared when the restart policy starts it again)."""
    created = datetime.fromisoformat(container.attrs["Created"][:19] + "+00:00")
    events = client.events(
        since=int(created.timestamp()),
        until=int(time.time()),
        filters={"container": container.id, "event": "oom"},
        decode=True,
    )
    return sum(1 for _ in events)


class DockerBackend(ServiceBackend):
    name = "docker"
    tool = "docker"

    def available(self) -> bool:
        return True  # the SDK is a dependency; whether the engine answers is said on use

    def start_argv(self, spec: ServiceSpec) -> list[list[str]]:
        """The same start as a `docker run` line (for plans and dry runs)."""
        argv = ["docker", "run", "-d", "--init", "--name", spec.unit, "--restart", spec.restart]
        if spec.port:
            argv += ["-p", f"127.0.0.1:{spec.port}:{spec.port}"]
        if spec.memory:
            argv += ["-m", spec.memory]
        if spec.cpus:
            argv += ["--cpus", f"{spec.cpus:g}"]
        for host, inside in sorted(spec.binds.items()):
            argv += ["-v", f"{host}:{inside}"]
        for key in sorted(spec.env):
            argv += ["-e", key]  # values are given at run time, never shown
        argv.append(str(spec.image))
        return [argv + spec.command]

    def stop_argv(self, spec: ServiceSpec) -> list[list[str]]:
        grace = str(int(spec.stop_grace))
        return [["docker", "stop", "-t", grace, spec.unit], ["docker", "rm", "-f", spec.unit]]

    def status_argv(self, spec: ServiceSpec) -> list[str]:
        return ["docker", "inspect", "-f", "{{.State.Running}}", spec.unit]

    def usage(self, spec: ServiceSpec) -> dict[str, Any] | None:
        """The container as the engine measures it (Docker stats): CPU %, memory and its
        limit, restarts by the engine and whether the kernel OOM-killed it. None: no such
        container."""
        container = _container(_client(), spec.unit)
        if container is None:
            return None
        state = container.attrs.get("State", {})
        restarts = container.attrs.get("RestartCount", 0)
        row: dict[str, Any] = {
            "restarts": restarts,
            "oom_killed": bool(state.get("OOMKilled")) or _oom_kills(_client(), container) > 0,
        }
        if container.status != "running":
            return row
        import docker.errors

        try:
            stats = container.stats(stream=False)  # the engine samples twice: CPU is a rate
        except docker.errors.NotFound:  # removed since it was looked up (a deploy replaced it)
            return row
        cpu, pre = stats.get("cpu_stats", {}), stats.get("precpu_stats", {})
        used = cpu.get("cpu_usage", {}).get("total_usage", 0) - pre.get("cpu_usage", {}).get(
            "total_usage", 0
        )
        system = cpu.get("system_cpu_usage", 0) - pre.get("system_cpu_usage", 0)
        memory = stats.get("memory_stats", {})
        inactive = memory.get("stats", {}).get("inactive_file", 0)
        row["cpu"] = round(100.0 * used / system * cpu.get("online_cpus", 1), 1) if system else 0.0
        row["rss_mb"] = round((memory.get("usage", 0) - inactive) / 2**20, 1)
        row["mem_limit_mb"] = round(memory.get("limit", 0) / 2**20, 1)
        return row

    def runs(self, spec: ServiceSpec) -> bool:
        """Its container runs this spec's image, command and labels (its release's build)."""
        container = _container(_client(), spec.unit)
        if container is None or container.status != "running":
            return False
        config = container.attrs.get("Config", {})
        return (
            config.get("Image") == spec.image
            and (not spec.command or config.get("Cmd") == spec.command)
            and all((config.get("Labels") or {}).get(k) == v for k, v in spec.labels.items())
        )

    def start(self, spec: ServiceSpec, replace: bool = False) -> ServiceStatus:
        import docker.errors

        client = _client()
        old = _container(client, spec.unit)
        if old is not None:
            if old.status == "running" and not replace:
                return self.status(spec)
            self._remove(old, spec)
        try:  # `run` would try a pull for an image the engine lacks: no registry is assumed
            client.images.get(spec.image)
        except docker.errors.ImageNotFound:
            raise ServiceError(
                f"service {spec.name}: image {spec.image} is not on the engine; deploy again "
                "to build it"
            ) from None
        ports = {f"{spec.port}/tcp": ("127.0.0.1", spec.port)} if spec.port else {}
        for host in spec.binds:
            make_dir(Path(host))
        try:
            client.containers.run(
                spec.image,
                command=spec.command or None,
                name=spec.unit,
                detach=True,
                init=True,  # an init as PID 1 passes the stop signal on (a bare PID 1 ignores it)
                environment={**env_file_values(spec), **spec.env},
                ports=ports,
                mem_limit=spec.memory,
                nano_cpus=int(spec.cpus * 1e9) if spec.cpus else None,
                labels=spec.labels,
                restart_policy={"Name": spec.restart} if spec.restart != "no" else None,
                volumes={h: {"bind": c, "mode": "rw"} for h, c in spec.binds.items()},
            )
        except docker.errors.ImageNotFound:
            raise ServiceError(
                f"service {spec.name}: image {spec.image} is not on the engine; deploy again "
                "to build it"
            ) from None
        except docker.errors.APIError as exc:
            raise ServiceError(f"service {spec.name}: docker: {exc.explanation or exc}") from None
        return self.status(spec)

    def _remove(self, container: Any, spec: ServiceSpec) -> None:
        import docker.errors

        with contextlib.suppress(docker.errors.APIError):
            container.stop(timeout=int(spec.stop_grace))
        with contextlib.suppress(docker.errors.NotFound):
            container.remove(force=True)

    def stop(self, spec: ServiceSpec) -> ServiceStatus:
        client = _client()
        container = _container(client, spec.unit)
        if container is not None:
            self._remove(container, spec)
        return ServiceStatus(spec.name, self.name, False, detail="removed")

    def status(self, spec: ServiceSpec) -> ServiceStatus:
        try:
            client = _client()
        except ServiceError as exc:
            return ServiceStatus(spec.name, self.name, False, detail=str(exc))
        container = _container(client, spec.unit)
        if container is None:
            return ServiceStatus(spec.name, self.name, False, detail="no container")
        state = container.attrs.get("State", {})
        running = state.get("Running", False) and not state.get("Restarting", False)
        restarts = container.attrs.get("RestartCount", 0)
        detail = f"{state.get('Status', '?')}, restarts {restarts}"
        ooms = _oom_kills(client, container) if restarts or not running else 0
        if ooms or state.get("OOMKilled"):
            detail += f", OOM-killed {max(ooms, 1)} times (memory limit {spec.memory})"
        return ServiceStatus(spec.name, self.name, running, state.get("Pid") or None, detail)
