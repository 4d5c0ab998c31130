"""Run argv lists (commands are data everywhere else); stream output; translate failures."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from deployflow.errors import CommandError

__all__ = ["CommandResult", "resolve_program", "run"]

# Debian keeps daemons such as mariadbd in sbin, which a normal user's PATH lacks.
SBIN = "/usr/local/sbin:/usr/sbin:/sbin"


def resolve_program(program: str) -> str | None:
    """The executable for `program`: as given when it has a '/', else from PATH, then sbin."""
    if "/" in program:
        return program if os.access(program, os.X_OK) else None
    return shutil.which(program) or shutil.which(program, path=SBIN)


@dataclass(frozen=True)
class CommandResult:
    argv: list[str]
    returncode: int
    tail: list[str]
    seconds: float


def run(
    argv: Sequence[str],
    *,
    cwd: Path | str | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float | None = None,
    on_line: Callable[[str], None] | None = None,
    check: bool = True,
    error: type[CommandError] = CommandError,
) -> CommandResult:
    """Run `argv`, feeding each output line to `on_line`; raise `error` on a non-zero exit."""
    argv = [str(a) for a in argv]
    if "/" not in argv[0]:
        argv[0] = resolve_program(argv[0]) or argv[0]
    started = time.monotonic()
    tail: deque[str] = deque(maxlen=20)
    full_env = {**os.environ, **(env or {})}
    try:
        proc = subprocess.Popen(
            argv,
            cwd=cwd,
            env=full_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            errors="replace",
            start_new_session=True,
        )
    except FileNotFoundError as exc:
        raise error(f"{argv[0]}: command not found; install it or fix the step") from exc
    except OSError as exc:
        raise error(f"{argv[0]}: cannot start ({exc.strerror})") from exc
    assert proc.stdout is not None
    try:
        for line in proc.stdout:
            line = line.rstrip("\n")
            tail.append(line)
            if on_line:
                on_line(line)
            if timeout is not None and time.monotonic() - started > timeout:
                proc.kill()
                raise error(f"{' '.join(argv)}: timed out after {timeout:.0f}s")
        code = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        proc.kill()
        raise error(f"{' '.join(argv)}: timed out after {timeout:.0f}s") from exc
    result = CommandResult(argv, code, list(tail), time.monotonic() - started)
    if check and code != 0:
        last = tail[-1] if tail else "no output"
        raise error(f"{' '.join(argv)} exited {code} in {cwd or '.'}: {last}")
    return result
