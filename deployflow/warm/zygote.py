"""The warm zygote: a process that has imported Prefect, its engine and deployflow's flows,
started no thread and no Prefect service, and forks one child per flow run. The child takes
the run's environment and working directory, starts its own session (a process group the
worker kills on cancel) and runs `prefect.engine` exactly as `python -m prefect.engine` would.

Protocol on the socket whose fd is the one argument, one JSON document per line:
  worker -> zygote  {"id": 1, "env": {...}, "cwd": "/path"}
  zygote -> worker  {"ready": true} once warm, or {"ready": false, "why": "..."}
                    {"id": 1, "pid": 123}  or  {"id": 1, "error": "..."} (start it otherwise)
                    {"exited": 123, "code": 0}  (negative: killed by that signal)
Run: python -m deployflow.warm.zygote FD (by the warm worker)."""

from __future__ import annotations

import ctypes
import json
import os
import runpy
import select
import signal
import socket
import sys
import threading
from collections.abc import Mapping
from typing import Any

from deployflow.backends.failpoints import failpoint_action

__all__ = ["main"]

PR_SET_PDEATHSIG = 1  # linux/prctl.h
# what a run would import on its way (measured: the modules a forked run added, ~40 ms)
LATER = (
    "anyio._backends._asyncio",
    "prefect._internal.observers",
    "prefect.concurrency.sync",
    "prefect.task_engine",
    "prefect.utilities.visualization",
    "pymysql",
    "websocket",
)
LOGGING_KEYS = ("PREFECT_LOGGING_", "PREFECT_HOME", "PREFECT_PROFILE")


def _warm_imports() -> None:
    """What every run would import first: Prefect's engine and every deployflow flow."""
    import importlib

    import prefect.engine
    import prefect.flow_engine  # noqa: F401

    from deployflow.deployments.specs import FLOWS

    for entrypoint, _name in FLOWS.values():
        importlib.import_module(entrypoint.split(":")[0])
    for module in LATER:
        importlib.import_module(module)
    if failpoint_action("zygote") == "thread":  # the fallback path, on purpose
        threading.Thread(target=threading.Event().wait, daemon=True).start()


def _logging_env(env: Mapping[str, str]) -> dict[str, str]:
    """What Prefect's logging set-up reads from the environment."""
    return {k: v for k, v in env.items() if k.startswith(LOGGING_KEYS)}


WARM_LOGGING = _logging_env(os.environ)  # the zygote's, which `import prefect` configured


def _send(sock: socket.socket, message: dict[str, Any]) -> None:
    sock.sendall((json.dumps(message) + "\n").encode())


def _child(request: dict[str, Any]) -> None:
    """In the forked child: become the run's process and run the engine. Never returns. It
    dies with the zygote (as a process worker's run dies with its worker's process group)."""
    zygote = os.getppid()
    os.setsid()
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != zygote:  # the zygote died before the line above
        os._exit(1)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    signal.signal(signal.SIGUSR1, signal.SIG_DFL)
    signal.set_wakeup_fd(-1)
    os.environ.clear()
    os.environ.update(request["env"])
    if request.get("cwd"):
        os.chdir(request["cwd"])
    from prefect.context import refresh_global_settings_context
    from prefect.logging.configuration import setup_logging
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    refresh_global_settings_context()  # the run's settings, not the zygote's
    if _logging_env(os.environ) != WARM_LOGGING:  # as `import prefect` set it up, else again
        setup_logging()
    import prefect.engine

    sys.argv = [prefect.engine.__file__]
    # the worker beats for a forked run (warm/heartbeats.py): the engine's own heartbeat thread
    # would hold the run's end for up to a second
    with temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        runpy.run_path(prefect.engine.__file__, run_name="__main__")  # `python -m prefect.engine`
    raise SystemExit(0)


def _reap(sock: socket.socket) -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        _send(sock, {"exited": pid, "code": os.waitstatus_to_exitcode(status)})


def _fork(sock: socket.socket, request: dict[str, Any], wake: tuple[int, int]) -> None:
    if threading.active_count() > 1:
        me = threading.current_thread()
        names = ", ".join(t.name for t in threading.enumerate() if t is not me)
        _send(sock, {"id": request["id"], "error": f"a thread runs in the zygote ({names})"})
        return
    pid = os.fork()
    if pid == 0:
        sock.close()
        for fd in wake:
            os.close(fd)
        _child(request)
    _send(sock, {"id": request["id"], "pid": pid})


def main() -> None:
    sock = socket.socket(fileno=int(sys.argv[1]))
    try:
        _warm_imports()
    except Exception as exc:  # the worker falls back to normal starts and says why
        _send(sock, {"ready": False, "why": f"{type(exc).__name__}: {exc}"})
        return
    wake = os.pipe()
    os.set_blocking(wake[1], False)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    signal.set_wakeup_fd(wake[1])
    _send(sock, {"ready": True})
    buffer = b""
    while True:
        readable, _, _ = select.select([sock, wake[0]], [], [])
        if wake[0] in readable:
            os.read(wake[0], 512)
            _reap(sock)
        if sock in readable:
            data = sock.recv(65536)
            if not data:
                return  # the worker went away; children run on, in their own sessions
            buffer += data
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                _fork(sock, json.loads(line), wake)
                _reap(sock)


if __name__ == "__main__":
    main()
