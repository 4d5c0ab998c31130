"""The worker's side of the warm zygote: start it, wait until it is warm, ask it to fork a run,
hear when that run exits, and replace it when it dies. Everything here runs on the worker's
event loop; a zygote that is not ready (or cannot fork safely) makes `fork` raise `Cold`, and
the worker starts that run the normal way."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
import subprocess
import sys
from typing import Any

import psutil

from deployflow.backends.executor import Command, spawn_helper

__all__ = ["Cold", "Zygote"]

READY_TIMEOUT = 120.0  # importing Prefect on a loaded 2-core host takes seconds, not minutes


class Cold(Exception):
    """No warm start for this run: the reason goes to the worker log."""


class Zygote:
    def __init__(self, logger: logging.Logger) -> None:
        self._logger = logger
        self._proc: subprocess.Popen | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._ready = asyncio.Event()
        self._why = "the zygote is starting"
        self._next = 0
        self._forks: dict[int, asyncio.Future[int]] = {}
        self._exits: dict[int, asyncio.Future[int]] = {}
        self._reader_task: asyncio.Task | None = None
        self._closing = False
        self._watchers: set[asyncio.Task] = set()

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    async def start(self) -> None:
        """Spawn a zygote and follow it (it becomes ready in the background)."""
        ours, theirs = socket.socketpair()
        argv = [sys.executable, "-m", "deployflow.warm.zygote", theirs.fileno()]
        self._proc = spawn_helper(Command.of(argv, timeout=None), pass_fds=(theirs.fileno(),))
        theirs.close()
        reader, self._writer = await asyncio.open_unix_connection(sock=ours)
        self._ready.clear()
        self._why = "the zygote is warming up"
        self._reader_task = asyncio.create_task(self._read(reader, self._proc))

    async def _read(self, reader: asyncio.StreamReader, proc: subprocess.Popen) -> None:
        while line := await reader.readline():
            message: dict[str, Any] = json.loads(line)
            if "ready" in message:
                if message["ready"]:
                    self._ready.set()
                    self._logger.info("warm runner: zygote %s is warm", proc.pid)
                else:
                    self._why = f"the zygote could not warm up: {message.get('why')}"
                    self._logger.warning("warm runner: %s", self._why)
            elif "exited" in message:
                self._future(self._exits, message["exited"]).set_result(message["code"])
            elif "pid" in message:
                self._forks.pop(message["id"]).set_result(message["pid"])
            else:
                self._forks.pop(message["id"]).set_exception(Cold(message["error"]))
        await self._died(proc)

    @staticmethod
    def _future(table: dict[int, asyncio.Future[int]], key: int) -> asyncio.Future[int]:
        if key not in table:
            table[key] = asyncio.get_running_loop().create_future()
        return table[key]

    async def _died(self, proc: subprocess.Popen) -> None:
        """The zygote is gone: pending forks start cold; runs it forked are watched by pid;
        a new zygote replaces it."""
        self._ready.clear()
        code = await asyncio.to_thread(proc.wait)
        self._why = f"the zygote {proc.pid} exited ({code})"
        for future in self._forks.values():
            future.set_exception(Cold(self._why))
        self._forks.clear()
        for pid, future in self._exits.items():
            if not future.done():
                self._watchers.add(asyncio.create_task(self._watch(pid, future)))
        if not self._closing:
            self._logger.warning("warm runner: %s; starting a new one", self._why)
            await self.start()

    @staticmethod
    async def _watch(pid: int, future: asyncio.Future[int]) -> None:
        """A run whose zygote died: its exit code is lost, only its end can be seen."""
        while psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
            await asyncio.sleep(0.2)
        future.set_result(1)

    async def fork(self, env: dict[str, str], cwd: str | None) -> int:
        """A forked child running the flow run `env` names; raises `Cold` when there is none."""
        if not self._ready.is_set() or self._writer is None:
            raise Cold(self._why)
        self._next += 1
        future = self._future(self._forks, self._next)
        request = {"id": self._next, "env": env, "cwd": cwd}
        self._writer.write((json.dumps(request) + "\n").encode())
        await self._writer.drain()
        pid = await future
        self._future(self._exits, pid)
        return pid

    async def wait(self, pid: int) -> int:
        """The run's exit code (negative: the signal that killed it)."""
        code = await self._future(self._exits, pid)
        self._exits.pop(pid, None)
        return code

    async def close(self) -> None:
        self._closing = True
        if self._writer is not None:
            self._writer.close()
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            await asyncio.to_thread(self._proc.wait)
        if self._reader_task is not None:
            self._reader_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader_task
