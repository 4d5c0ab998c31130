"""The one executor: every external command is a `Command` value run here. It streams output,
times out (even a step that prints nothing) and kills the command's whole process group."""

from __future__ import annotations

import atexit
import contextlib
import io
import os
import pwd
import queue
import shutil
import signal
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Any

from deployflow.backends.files import open_log
from deployflow.core.redact import Redactor
from deployflow.core.steperror import error_lines
from deployflow.errors import CommandError

__all__ = [
    "PRIVATE_ENV",
    "Command",
    "CommandResult",
    "become",
    "kill_group",
    "kill_running",
    "metered",
    "resolve_program",
    "run",
    "spawn",
    "spawn_held",
    "spawn_helper",
]

# Debian keeps daemons such as mariadbd in sbin, which a normal user's PATH lacks.
SBIN = "/usr/local/sbin:/usr/sbin:/sbin"
# deployflow's own credentials: never handed down to build steps, hooks or services
PRIVATE_ENV = frozenset({"PREFECT_API_AUTH_STRING", "PREFECT_API_KEY"})
DEFAULT_TIMEOUT = 900.0

TAIL_LINES = 100  # of a failed command's output, searched for the lines that carry the error


def resolve_program(program: str) -> str | None:
    """The executable for `program`: as given when it has a '/', else from PATH, then sbin."""
    if "/" in program:
        return program if os.access(program, os.X_OK) else None
    return shutil.which(program) or shutil.which(program, path=SBIN)


@dataclass(frozen=True)
class Command:
    """A command as data: what runs, where, with what environment, for how long at most, and
    which values must never appear in a message about it."""

    argv: tuple[str, ...]
    cwd: Path | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    timeout: float | None = DEFAULT_TIMEOUT
    secrets: tuple[str, ...] = ()
    inherit_env: bool = True  # False: `env` is the whole environment
    user: str | None = None  # run as this system user (its groups too): only root can ask

    @property
    def environment(self) -> dict[str, str]:
        if not self.inherit_env:
            return dict(self.env)
        inherited = {k: v for k, v in os.environ.items() if k not in PRIVATE_ENV}
        return {**inherited, **self.env}

    @classmethod
    def of(cls, argv: Sequence[object], **kwargs: object) -> Command:
        return cls(tuple(str(a) for a in argv), **kwargs)  # type: ignore[arg-type]

    def redact(self, text: str) -> str:
        return Redactor(self.secrets)(text)

    @property
    def display(self) -> str:
        """The command line as it may be shown: secrets masked."""
        return self.redact(" ".join(self.argv))


@dataclass(frozen=True)
class CommandResult:
    argv: list[str]
    returncode: int
    tail: list[str]
    seconds: float


def kill_group(pgid: int, sig: signal.Signals = signal.SIGKILL) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


_RUNNING: set[int] = set()  # process groups of commands running now, from any thread
_RUNNING_LOCK = threading.Lock()


def kill_running() -> None:
    """Kill every command this process is running (each in its own session, so a signal to
    our group misses them): called when a run is cancelled or terminated, and at exit."""
    with _RUNNING_LOCK:
        groups = list(_RUNNING)
    for pgid in groups:
        kill_group(pgid)


atexit.register(kill_running)


def _argv(command: Command) -> list[str]:
    argv = list(command.argv)
    if "/" not in argv[0]:
        argv[0] = resolve_program(argv[0]) or argv[0]
    return argv


def _pump_lines(stream: IO[str], lines: queue.Queue[str | None]) -> None:
    with contextlib.suppress(ValueError, OSError):
        for line in stream:
            lines.put(line.rstrip("\n"))
    lines.put(None)


def _feed(stream: IO[bytes], source: Iterable[bytes], failed: list[BaseException]) -> None:
    try:
        for block in source:
            stream.write(block)
    except BrokenPipeError:
        return  # the command stopped reading: its exit code says why (stdin closed below)
    except BaseException as exc:  # an unreadable input: reported by run() once the command ends
        failed.append(exc)
    finally:
        with contextlib.suppress(OSError):
            stream.close()


def _pump_bytes(
    stream: IO[bytes], sink: Callable[[bytes], None], failed: list[BaseException], pgid: int
) -> None:
    try:
        for block in iter(lambda: stream.read(1 << 16), b""):
            sink(block)
    except BaseException as exc:  # a full disk: reported by run() once the command ends
        failed.append(exc)
        kill_group(pgid)  # nothing reads its output any more: it would block forever


def run(
    command: Command,
    *,
    on_line: Callable[[str], None] | None = None,
    sink: Callable[[bytes], None] | None = None,
    source: Iterable[bytes] | None = None,
    check: bool = True,
    error: type[CommandError] = CommandError,
) -> CommandResult:
    """Run `command`; each output line goes to `on_line` (stdout goes to `sink` as bytes when
    given, stderr then being the lines; `source`'s blocks are its stdin). Raise `error` on a
    non-zero exit or on the timeout, which kills the whole process group; Ctrl-C or any other
    exception kills it too."""
    argv = _argv(command)
    started = time.monotonic()
    tail: deque[str] = deque(maxlen=TAIL_LINES)
    try:
        proc = subprocess.Popen(
            argv,
            cwd=command.cwd,
            env=command.environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE if sink else subprocess.STDOUT,
            stdin=subprocess.DEVNULL if source is None else subprocess.PIPE,
            text=sink is None,
            errors="replace" if sink is None else None,
            start_new_session=True,
            **(_as_user(command.user) if command.user else {}),
        )
    except FileNotFoundError as exc:
        raise error(
            f"{exc.filename or argv[0]}: command not found; install it or fix the step"
        ) from None
    except OSError as exc:
        raise error(f"{command.redact(argv[0])}: cannot start ({exc.strerror})") from None
    with _RUNNING_LOCK:
        _RUNNING.add(proc.pid)
    assert proc.stdout is not None
    lines: queue.Queue[str | None] = queue.Queue()
    sink_failed: list[BaseException] = []
    threads = []
    if sink is None:
        threads.append(threading.Thread(target=_pump_lines, args=(proc.stdout, lines)))
    else:
        assert proc.stderr is not None
        text_err = io.TextIOWrapper(proc.stderr, encoding="utf-8", errors="replace")
        threads.append(threading.Thread(target=_pump_lines, args=(text_err, lines)))
        pump = (proc.stdout, sink, sink_failed, proc.pid)
        threads.append(threading.Thread(target=_pump_bytes, args=pump))
    if source is not None:
        assert proc.stdin is not None
        stdin = proc.stdin if sink is not None else proc.stdin.buffer  # type: ignore[attr-defined]
        threads.append(threading.Thread(target=_feed, args=(stdin, source, sink_failed)))
    for thread in threads:
        thread.daemon = True
        thread.start()
    deadline = None if command.timeout is None else started + command.timeout
    reading = True  # until the line stream (stdout, or stderr beside a sink) ends
    try:
        while reading:
            if deadline is not None and time.monotonic() >= deadline:
                raise error(
                    f"{command.display}: timed out after {command.timeout:.0f}s "
                    "(the whole process group was killed)"
                )
            try:
                line = lines.get(timeout=0.2)
            except queue.Empty:
                if proc.poll() is not None:
                    kill_group(proc.pid)  # a leftover child holding the pipe open ends too
                continue
            if line is None:
                reading = False
                continue
            tail.append(command.redact(line))
            if on_line:
                on_line(command.redact(line))
        for thread in threads:  # the bytes pump may still be writing its last blocks
            thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
            if thread.is_alive():
                raise error(f"{command.display}: timed out after {command.timeout:.0f}s")
        code = proc.wait()
    finally:
        # the leader is done or we are leaving early: nothing it started may outlive it
        kill_group(proc.pid)
        with _RUNNING_LOCK:
            _RUNNING.discard(proc.pid)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
    if sink_failed:
        raise error(f"{command.display}: output could not be moved ({sink_failed[0]})")
    result = CommandResult(argv, code, list(tail), time.monotonic() - started)
    if check and code != 0:
        said = error_lines(tail)
        raise error(f"{command.display} exited {code} in {command.cwd or '.'}: {said}")
    return result


def metered(
    sink: Callable[[bytes], object], report: Callable[[int], None] | None, every: float = 1.0
) -> Callable[[bytes], None]:
    """`sink`, telling `report` the bytes through it so far at most once per `every` seconds
    (progress of a long dump or archive)."""
    total = 0
    last = time.monotonic()

    def write(block: bytes) -> None:
        nonlocal total, last
        sink(block)
        total += len(block)
        if report is not None and time.monotonic() - last >= every:
            last = time.monotonic()
            report(total)

    return write


def _as_user(name: str) -> dict[str, Any]:
    """Popen's arguments that make the child `name`, with its primary and supplementary groups."""
    entry = pwd.getpwnam(name)
    groups = os.getgrouplist(name, entry.pw_gid)
    return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": groups}


def _popen(command: Command, **how: Any) -> subprocess.Popen:
    argv = _argv(command)
    how.setdefault("stdin", subprocess.DEVNULL)
    if command.user:
        how.update(_as_user(command.user))
    try:
        return subprocess.Popen(argv, cwd=command.cwd, env=command.environment, **how)
    except OSError as exc:
        raise CommandError(
            f"cannot run {command.redact(command.argv[0])!r} ({exc.strerror})"
        ) from None


def spawn(command: Command, log_file: Path, out_file: Path | None = None) -> subprocess.Popen:
    """Start a long-running process (a service, the Prefect server) in its own session, its
    output appended to `log_file` (0600: what a service prints may hold a secret); with
    `out_file`, its standard output there (0600 too) and only its standard error in the log.
    The caller tracks it by pid; `kill_group` stops it."""
    with contextlib.ExitStack() as files:
        log = files.enter_context(open_log(log_file))
        out = files.enter_context(open_log(out_file)) if out_file else log
        err = log if out_file else subprocess.STDOUT
        return _popen(command, stdout=out, stderr=err, start_new_session=True, close_fds=True)


# waits for one line on stdin, then becomes the command; EOF first (its starter died): exits
_HOLD = 'read -r _ || exit 97; exec "$@" </dev/null'


def spawn_held(command: Command, log_file: Path) -> tuple[subprocess.Popen, Callable[[], None]]:
    """`spawn`, but the process waits until `go()` is called, with its pid (kept through the
    exec) known before the command runs: the caller records it first, so no kill can leave a
    service running that nothing knows of. If the caller dies before `go()`, it never runs."""
    held = replace(command, argv=("/bin/sh", "-c", _HOLD, "deployflow-held", *_argv(command)))
    with open_log(log_file) as log:
        proc = _popen(
            held,
            stdin=subprocess.PIPE,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
        )

    def go() -> None:
        assert proc.stdin is not None
        with contextlib.suppress(BrokenPipeError):
            proc.stdin.write(b"go\n")
            proc.stdin.close()

    return proc, go


def run_attached(command: Command) -> int:
    """Run `command` on this terminal (stdin, stdout and stderr inherited: an interactive
    one-off works) and return its exit code; its timeout, when it has one, kills it."""
    argv = _argv(command)
    try:
        proc = subprocess.Popen(argv, cwd=command.cwd, env=command.environment)
    except OSError as exc:
        raise CommandError(f"cannot run {command.argv[0]}: {exc.strerror}") from None
    try:
        return proc.wait(timeout=command.timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise CommandError(f"{command.display}: timed out after {command.timeout:g} s") from None
    except BaseException:
        proc.terminate()
        proc.wait()
        raise


def spawn_helper(command: Command, pass_fds: tuple[int, ...]) -> subprocess.Popen:
    """Start a helper of this process (the warm worker's zygote): in this process group, so a
    kill of the group takes it too, its output on ours, handed `pass_fds` to talk over."""
    return _popen(command, pass_fds=pass_fds)


def become(command: Command) -> None:
    """Replace this process with `command` (a foreground worker): signals reach it directly."""
    argv = _argv(command)
    try:
        if command.user:
            who = _as_user(command.user)
            os.setgroups(who["extra_groups"])
            os.setgid(who["group"])
            os.setuid(who["user"])
        os.execve(argv[0], argv, command.environment)
    except OSError as exc:
        raise CommandError(f"cannot run {argv[0]!r} ({exc.strerror})") from None
