"""Plain processes: started in their own session, tracked by pidfiles, stopped group-wide."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

from deployflow.backends.executor import Command, kill_group, spawn_held
from deployflow.backends.failpoints import failpoint
from deployflow.backends.files import atomic_write, open_log
from deployflow.backends.services.base import ServiceBackend, ServiceStatus
from deployflow.backends.services.process_table import (
    SERVICE_MARK,
    group_members,
    proc_start_time,
    reap,
)
from deployflow.backends.services.sockets import group_listens, listening
from deployflow.core.envfile import parse_env
from deployflow.core.servicespec import ServiceSpec
from deployflow.errors import CommandError, ServiceError

__all__ = ["ProcessBackend", "env_file_values", "group_members", "proc_start_time"]


class ProcessBackend(ServiceBackend):
    name = "process"
    tool = ""

    def available(self) -> bool:
        return True

    def start_argv(self, spec: ServiceSpec) -> list[list[str]]:
        return [spec.command]

    def stop_argv(self, spec: ServiceSpec) -> list[list[str]]:
        return [["kill", "-TERM", "--", "-<pgid>"]]

    def status_argv(self, spec: ServiceSpec) -> list[str]:
        return ["cat", str(spec.pid_file)]

    @staticmethod
    def _live(info: dict | None) -> int | None:
        """The pid a pidfile record names, if that very process still runs."""
        if not info:
            return None
        pid = int(info.get("pid") or 0)
        reap(pid)
        return pid if pid and proc_start_time(pid) == info.get("start_time") else None

    @staticmethod
    def _record(spec: ServiceSpec) -> dict | None:
        assert spec.pid_file is not None
        try:
            return json.loads(spec.pid_file.read_text())
        except (FileNotFoundError, ValueError):
            return None

    def runs(self, spec: ServiceSpec) -> bool:
        """Its pidfile names a live process started with this very command in this dir."""
        record = self._record(spec)
        cwd = str(spec.cwd) if spec.cwd else None
        return bool(
            record
            and self._live(record)
            and record.get("argv") == spec.command
            and record.get("cwd") == cwd
        )

    def _pid(self, spec: ServiceSpec) -> int | None:
        return self._live(self._record(spec))

    def status(self, spec: ServiceSpec) -> ServiceStatus:
        pid = self._pid(spec)
        if pid is None:
            return ServiceStatus(spec.name, self.name, False, detail="stopped")
        return ServiceStatus(spec.name, self.name, True, pid, detail=f"pid {pid}")

    def start(self, spec: ServiceSpec, replace: bool = False) -> ServiceStatus:
        """Start and wait until its port accepts (or it stays up briefly when it has none);
        a process that exits fails at once, with the last lines of its log. With `replace`
        (a `reuse_port` service) a running one is stopped only once the new one listens."""
        assert spec.pid_file is not None and spec.log_file is not None
        old = self._record(spec)
        old_pid = self._live(old)
        if old_pid is not None and not replace:
            return ServiceStatus(spec.name, self.name, True, old_pid, detail=f"pid {old_pid}")
        if spec.cwd is not None and not spec.cwd.is_dir():
            raise ServiceError(f"service {spec.name}: working directory {spec.cwd} does not exist")
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        with open_log(spec.log_file) as log:
            log.write(f"--- deployflow: starting {spec.name} at {stamp}\n".encode())
        offset = spec.log_file.stat().st_size
        # SERVICE_MARK: how daemons.py tells services from a worker's own processes
        env = {**env_file_values(spec), **spec.env, SERVICE_MARK: spec.name}
        command = Command.of(spec.command, cwd=spec.cwd, env=env, timeout=None)
        try:
            proc, go = spawn_held(command, spec.log_file)
        except CommandError as exc:
            raise ServiceError(f"service {spec.name}: {exc}") from None
        start_time = None
        for _ in range(50):
            start_time = proc_start_time(proc.pid)
            if start_time or proc.poll() is not None:
                break
            time.sleep(0.01)
        info = {
            "pid": proc.pid,
            "start_time": start_time,
            "argv": spec.command,
            "cwd": str(spec.cwd) if spec.cwd else None,
            "started": stamp,
            "previous": old if old_pid else None,  # stopped once this one listens
        }
        try:
            failpoint("service-spawned")
            atomic_write(spec.pid_file, json.dumps(info))  # known before it can bind
        except BaseException:
            kill_group(proc.pid)
            raise
        go()
        problem = self._settle(proc, spec, alongside=old_pid is not None)
        if problem:
            kill_group(proc.pid)
            if old_pid is not None:
                atomic_write(spec.pid_file, json.dumps(old))  # the old one serves on
            else:
                spec.pid_file.unlink(missing_ok=True)
            tail = " | ".join(_log_tail(spec.log_file, offset)) or "no output"
            raise ServiceError(f"service {spec.name} {problem}; last log lines: {tail}")
        if old_pid is not None:
            self._terminate(spec, old_pid)
            info["previous"] = None
            atomic_write(spec.pid_file, json.dumps(info))
        _note_start(spec)
        return ServiceStatus(spec.name, self.name, True, proc.pid, detail=f"pid {proc.pid}")

    @staticmethod
    def _settle(proc: subprocess.Popen, spec: ServiceSpec, alongside: bool) -> str | None:
        """Wait for the port (or a short settle without one); the problem, or None. Beside a
        running old process the port is open already: wait until the new one holds it."""
        ends = time.monotonic() + (spec.start_timeout if spec.port else 0.3)
        while time.monotonic() < ends:
            if proc.poll() is not None:
                return f"exited at once with code {proc.returncode}"
            if spec.port:
                if alongside and group_listens(proc.pid, spec.port):
                    return None
                if not alongside and listening(spec.port):
                    return None
            time.sleep(0.02)
        if spec.port:
            return f"did not open port {spec.port} on {spec.host} in {spec.start_timeout:.0f}s"
        return None

    def starts(self, spec: ServiceSpec) -> list[str] | None:
        assert spec.pid_file is not None
        try:
            return list(json.loads(_starts_file(spec).read_text()))
        except (FileNotFoundError, ValueError, TypeError):
            return []

    def stop(self, spec: ServiceSpec) -> ServiceStatus:
        assert spec.pid_file is not None
        record = self._record(spec)
        for pid in (self._live(record), self._live((record or {}).get("previous"))):
            if pid is not None:
                self._terminate(spec, pid)
        spec.pid_file.unlink(missing_ok=True)
        return ServiceStatus(spec.name, self.name, False, detail="stopped")

    def _terminate(self, spec: ServiceSpec, pid: int) -> None:
        """SIGTERM to the group, the grace period, SIGKILL; verified gone."""
        self._signal_group(pid, signal.SIGTERM)
        deadline = time.monotonic() + spec.stop_grace
        while time.monotonic() < deadline and self._alive(pid):
            time.sleep(0.05)
        if self._alive(pid):
            self._signal_group(pid, signal.SIGKILL)
            for _ in range(250):
                if not self._alive(pid):
                    break
                time.sleep(0.02)
        if self._alive(pid):
            raise ServiceError(
                f"service {spec.name}: process group {pid} survived SIGKILL; check it by hand"
            )

    @staticmethod
    def _signal_group(pgid: int, sig: signal.Signals) -> None:
        kill_group(pgid, sig)

    @staticmethod
    def _alive(pgid: int) -> bool:
        reap(pgid)
        return bool(group_members(pgid))


KEEP_STARTS = 100


def _starts_file(spec: ServiceSpec) -> Path:
    assert spec.pid_file is not None
    return spec.pid_file.with_suffix(".starts")


def _note_start(spec: ServiceSpec) -> None:
    """Each successful start's time, kept beside the pidfile across stops (for restart counts)."""
    try:
        starts = json.loads(_starts_file(spec).read_text())
    except (FileNotFoundError, ValueError):
        starts = []
    stamp = datetime.now(UTC).isoformat()
    atomic_write(_starts_file(spec), json.dumps([*starts, stamp][-KEEP_STARTS:]))


def _log_tail(path: Path, offset: int, lines: int = 5) -> list[str]:
    """The last lines this start wrote to the service's log."""
    try:
        with open(path, "rb") as handle:
            handle.seek(offset)
            text = handle.read().decode(errors="replace")
    except FileNotFoundError:
        return []
    return [line[:200] for line in text.strip().splitlines()[-lines:]]


def env_file_values(spec: ServiceSpec) -> dict[str, str]:
    """Its app's env_file, read as it starts (its secrets are never in the release snapshot)."""
    if spec.env_file is None:
        return {}
    try:
        return parse_env(spec.env_file.read_text(encoding="utf-8"), str(spec.env_file))
    except OSError as exc:
        raise ServiceError(
            f"service {spec.name}: env_file {spec.env_file} unreadable ({exc.strerror})"
        ) from None
