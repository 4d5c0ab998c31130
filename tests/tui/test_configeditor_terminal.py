"""`deployflow config edit` in a real terminal: tmux at 80x24 runs the command; typing a bad
port shows the loader's error on screen, Ctrl+R resets it, Esc leaves; the file is byte-identical
and the command says it was not saved."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

from tests.tui.test_configeditor import _stack


def _screen(session: str) -> str:
    done = subprocess.run(
        ["tmux", "capture-pane", "-p", "-J", "-t", session], capture_output=True, text=True
    )
    return done.stdout


def _until(session: str, text: str, present: bool = True) -> str:
    for _ in range(300):
        screen = _screen(session)
        if (text in screen) == present:
            return screen
        time.sleep(0.1)
    raise AssertionError(f"{text!r} {'never appeared' if present else 'stayed'}:\n{screen}")


def _open(base: Path, stack: Path, field: str, name: str) -> str:
    """`config edit --field FIELD` in a new 80x24 tmux session; returns the session's name."""
    session = f"deployflow-{name}-{os.getpid()}"
    argv = [sys.executable, "-m", "deployflow", "config", "edit", "--stack", str(stack)]
    command = shlex.join([*argv, "--field", field])
    script = f"cd {shlex.quote(str(base))} && {command}; echo EXIT=$?; sleep 60"
    env = {**os.environ, "TERM": "xterm-256color"}
    subprocess.run(
        ["tmux", "new-session", "-d", "-s", session, "-x", "80", "-y", "24", script],
        check=True,
        env=env,
    )
    return session


def test_config_edit_in_an_80x24_terminal(tmp_path: Path) -> None:
    stack = _stack(tmp_path)
    before = (tmp_path / "app.env").read_bytes()
    session = _open(tmp_path, stack, "BACKEND_PORT", "edit")
    try:
        _until(session, "BACKEND_PORT (port)")
        subprocess.run(["tmux", "send-keys", "-t", session, "8", "0"], check=True)
        screen = _until(session, "not a port in 1024-65535")
        assert "1 to fix before saving; BACKEND_PORT: '80'" in screen
        subprocess.run(["tmux", "send-keys", "-t", session, "C-r"], check=True)
        _until(session, "not a port in 1024-65535", present=False)
        subprocess.run(["tmux", "send-keys", "-t", session, "Escape"], check=True)
        screen = _until(session, "EXIT=0")
        assert "not saved;" in screen
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
    assert (tmp_path / "app.env").read_bytes() == before


def test_config_edit_saves_then_offers_config_sync(tmp_path: Path) -> None:
    """Save in the terminal, then the prompts: the dry-run preview runs, the release is
    declined; the file holds the new value and the old one is in a backup."""
    stack = _stack(tmp_path)
    session = _open(tmp_path, stack, "APP_IP", "save")
    try:
        _until(session, "APP_IP (ipv4)")
        subprocess.run(["tmux", "send-keys", "-t", session, *"10.9.8.7"], check=True)
        _until(session, "unsaved changes")
        subprocess.run(["tmux", "send-keys", "-t", session, "C-s"], check=True)
        _until(session, "preview the config release")
        subprocess.run(["tmux", "send-keys", "-t", session, "y", "Enter"], check=True)
        screen = _until(session, "make it live now")
        assert "files would change" in screen
        subprocess.run(["tmux", "send-keys", "-t", session, "n", "Enter"], check=True)
        screen = _until(session, "EXIT=0")
        assert "the old one is in backup" in screen
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
    assert "APP_IP=10.9.8.7" in (tmp_path / "app.env").read_text()
