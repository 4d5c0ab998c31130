"""The one executor: commands as data, output streamed, timeouts that kill the whole group."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from deployflow.backends.database import dump_command
from deployflow.backends.executor import Command, metered, run
from deployflow.core.context import ResolvedDatabase
from deployflow.errors import CommandError


def test_a_silent_step_times_out_and_its_whole_group_dies(tmp_path: Path) -> None:
    pidfile = tmp_path / "child.pid"
    code = (
        "import os, subprocess, sys, time;"
        f"p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']);"
        f"open({str(pidfile)!r}, 'w').write(str(p.pid)); time.sleep(60)"
    )
    with pytest.raises(CommandError, match="timed out after 1s"):
        run(Command.of([sys.executable, "-c", code], timeout=1))
    child = int(pidfile.read_text())
    for _ in range(100):
        if not Path(f"/proc/{child}").exists():
            break
        stat = Path(f"/proc/{child}/stat").read_text()
        if stat[stat.rindex(")") + 2] == "Z":
            break
        time.sleep(0.02)
    else:
        os.kill(child, 9)
        raise AssertionError("the grandchild outlived the timeout")


def test_output_streams_and_secrets_are_masked_in_errors() -> None:
    lines: list[str] = []
    command = Command.of(
        [sys.executable, "-c", "print('token=hunter22'); raise SystemExit(3)"],
        secrets=("hunter22",),
    )
    with pytest.raises(CommandError) as err:
        run(command, on_line=lines.append)
    assert lines == ["token=********"]
    assert "hunter22" not in str(err.value) and "exited 3" in str(err.value)


def test_sink_receives_stdout_bytes() -> None:
    chunks: list[bytes] = []
    run(Command.of([sys.executable, "-c", "print('x' * 5)"]), sink=chunks.append)
    assert b"".join(chunks) == b"xxxxx\n"


def test_dump_is_a_command_with_the_password_outside_argv() -> None:
    db = ResolvedDatabase("main", "mariadb", "127.0.0.1", 3306, "app", "u", _secret("pw-1"), None)
    command = dump_command(db, "mariadb-dump")
    assert command.argv[:7] == ("mariadb-dump", "-h", "127.0.0.1", "-P", "3306", "-u", "u")
    assert "--single-transaction" in command.argv and "--events" in command.argv
    assert "pw-1" not in " ".join(command.argv) and command.env == {"MYSQL_PWD": "pw-1"}


def _secret(value: str):
    from pydantic import SecretStr

    return SecretStr(value)


def test_a_failing_sink_ends_the_command_instead_of_blocking_it() -> None:
    """`yes` writes forever: once the sink fails (a full disk), the command is killed and the
    sink's error reported, rather than the command blocking on a pipe nobody reads."""
    from deployflow.backends.executor import Command, run
    from deployflow.errors import CommandError

    seen = []

    def sink(block: bytes) -> None:
        seen.append(len(block))
        if sum(seen) > 1 << 20:
            raise OSError(28, "No space left on device")

    with pytest.raises(CommandError, match="No space left on device"):
        run(Command.of(["yes"], timeout=60), sink=sink)


def test_a_source_feeds_stdin() -> None:
    from deployflow.backends.executor import Command, run

    out = []
    run(Command.of(["wc", "-c"]), source=iter([b"x" * 1000] * 5), on_line=out.append)
    assert out == ["5000"]


def test_metered_sink_reports_now_and_then() -> None:
    got: list[bytes] = []
    heard: list[int] = []
    sink = metered(got.append, heard.append, every=0.0)
    for _ in range(3):
        sink(b"x" * 10)
    assert got == [b"x" * 10] * 3 and heard == [10, 20, 30]
    quiet = metered(got.append, heard.append, every=3600)
    quiet(b"y")
    assert heard == [10, 20, 30] and got[-1] == b"y"  # data through, no report yet


def test_deployflows_own_credentials_never_reach_a_command(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PREFECT_API_AUTH_STRING", "deployflow:s3cr3t-cred")
    monkeypatch.setenv("PREFECT_API_KEY", "pnu_key")
    seen = tmp_path / "env"
    code = f"import os; open({str(seen)!r}, 'w').write(repr(dict(os.environ)))"
    run(Command.of([sys.executable, "-c", code], env={"APP": "1"}))
    text = seen.read_text()
    assert "s3cr3t-cred" not in text and "pnu_key" not in text and "'APP': '1'" in text
    given = Command.of(["true"], env={"PREFECT_API_AUTH_STRING": "x:y"})
    assert given.environment["PREFECT_API_AUTH_STRING"] == "x:y"  # handed on purpose only
