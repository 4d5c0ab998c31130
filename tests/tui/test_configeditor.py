"""The config editor driven headless by Textual's pilot on a real stack and master config:
typing shows the loader's errors inline and disables Save; fixing, previewing (secrets masked)
and saving writes the file with its comments, order and mode, after a backup `backup list`
shows; Reset, Cancel and Esc leave it byte-identical; a file changed on disk is not saved
over; one that does not parse opens read-only; --wizard and --field."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from textual.widgets import Button, Input, Static

from deployflow.loading import load_stack
from deployflow.ops.backups import list_backups
from deployflow.ops.configedit import open_master, save_master, stack_facts
from deployflow.tui.configeditor import ConfigEditor, TextScreen
from tests.tinystack import write_tiny_stack

CONFIG = """\
# Master config of the shop (kept by the editor)
ENVIRONMENT=production
# the address the apps listen on
APP_IP=127.0.0.1
BACKEND_PORT=18000
PWA_PORT=18080
# the database user's password
DB_PASSWORD=first-long-password
"""


def _stack(base: Path) -> Path:
    write_tiny_stack(base, "editme", '    steps: [["true"]]')
    stack = base / "deployflow.yaml"
    text = stack.read_text()
    stack.write_text(text.replace("vars: {PORT:", "vars: {env_file: app.env, PORT:"))
    (base / "app.env").write_text(CONFIG)
    (base / "app.env").chmod(0o640)
    return stack


def _editor(stack: Path, **kw) -> tuple[ConfigEditor, object]:
    ctx = load_stack(stack, stack.parent / "root", check_vars=False)
    session = open_master(*_facts(stack))
    editor = ConfigEditor(session, lambda v: save_master(ctx, session, v, lambda _m: None), **kw)
    return editor, ctx


def _facts(stack: Path) -> tuple:
    env_file, environment, secrets = stack_facts(stack)
    return env_file, stack.parent, environment, secrets


async def _type(pilot, field: str, text: str) -> None:
    await pilot.click(f"#field-{field}")
    pilot.app.query_one(f"#field-{field}", Input).value = ""
    await pilot.press(*text)
    await pilot.pause()


def _error(app: ConfigEditor, field: str) -> str:
    return str(app.query_one(f"#help-{field}", Static).render())


def test_type_fix_preview_save(tmp_path: Path) -> None:
    stack = _stack(tmp_path)
    app, ctx = _editor(stack)

    async def drive() -> None:
        async with app.run_test(size=(100, 60)) as pilot:
            await _type(pilot, "BACKEND_PORT", "80")
            assert "not a port in 1024-65535" in _error(app, "BACKEND_PORT")
            assert app.query_one("#save", Button).disabled
            await _type(pilot, "BACKEND_PORT", "18080")
            assert "clashes with vars.BACKEND_PORT" in _error(app, "PWA_PORT")
            await _type(pilot, "BACKEND_PORT", "18001")
            await _type(pilot, "DB_PASSWORD", "short")
            assert "at least 8 characters" in _error(app, "DB_PASSWORD")
            await _type(pilot, "DB_PASSWORD", "second-long-password")
            assert not app.query_one("#save", Button).disabled
            await pilot.press("f3")
            await pilot.pause()
            shown = str(app.screen.query_one("#dialog-text", Static).render())
            assert "+BACKEND_PORT=18001" in shown and "-BACKEND_PORT=18000" in shown
            assert "long-password" not in shown and "DB_PASSWORD=********" in shown
            await pilot.press("escape")
            await pilot.press("ctrl+s")
            await pilot.pause()

    asyncio.run(drive())
    backup = app.return_value
    assert backup is not None
    saved = (tmp_path / "app.env").read_text()
    assert saved == CONFIG.replace("BACKEND_PORT=18000", "BACKEND_PORT=18001").replace(
        "first-long-password", "second-long-password"
    )
    assert (tmp_path / "app.env").stat().st_mode & 0o777 == 0o640
    listed = {b["id"]: b for b in list_backups(ctx)}
    assert "config edit" in listed[backup]["description"]
    kept = next((tmp_path / "root" / "backups" / backup / "configs" / "_master").glob("app.env"))
    assert kept.read_text() == CONFIG  # the file as it was before saving


def test_reset_cancel_and_esc_leave_the_file_alone(tmp_path: Path) -> None:
    stack = _stack(tmp_path)
    before = (tmp_path / "app.env").read_bytes()
    app, _ = _editor(stack)

    async def drive() -> None:
        async with app.run_test(size=(100, 60)) as pilot:
            await _type(pilot, "APP_IP", "10.1.2.3")
            await pilot.press("ctrl+r")
            assert app.query_one("#field-APP_IP", Input).value == "127.0.0.1"
            await _type(pilot, "APP_IP", "10.1.2.3")
            await pilot.press("escape")  # unsaved changes: it asks
            await pilot.pause()
            assert isinstance(app.screen, TextScreen)
            await pilot.press("n")
            await pilot.press("escape")
            await pilot.pause()
            await pilot.press("y")
            await pilot.pause()

    asyncio.run(drive())
    assert app.return_value is None and (tmp_path / "app.env").read_bytes() == before


def test_a_file_changed_on_disk_is_not_saved_over(tmp_path: Path) -> None:
    stack = _stack(tmp_path)
    app, _ = _editor(stack)
    theirs = CONFIG.replace("PWA_PORT=18080", "PWA_PORT=18090")

    async def drive() -> None:
        async with app.run_test(size=(100, 60)) as pilot:
            await _type(pilot, "APP_IP", "10.1.2.3")
            (tmp_path / "app.env").write_text(theirs)
            await pilot.press("ctrl+s")
            await pilot.pause()
            assert isinstance(app.screen, TextScreen)
            shown = str(app.screen.query_one("#dialog-text", Static).render())
            assert "+PWA_PORT=18090" in shown
            await pilot.press("escape")
            await pilot.press("escape")
            await pilot.press("y")

    asyncio.run(drive())
    assert (tmp_path / "app.env").read_text() == theirs


def test_unparsable_opens_read_only_and_wizard_and_field(tmp_path: Path) -> None:
    stack = _stack(tmp_path)
    broken = CONFIG + "this line is wrong\n"
    (tmp_path / "app.env").write_text(broken)
    session = open_master(*_facts(stack))
    assert session.doc is None and ":9: expected KEY=VALUE" in (session.error or "")
    ro = ConfigEditor(session, lambda _v: pytest.fail("a read-only editor saved"))

    async def read_only() -> None:
        async with ro.run_test(size=(100, 40)) as pilot:
            assert "read-only" in str(ro.query_one("#banner", Static).render())
            await pilot.press("ctrl+s")
            await pilot.press("escape")

    asyncio.run(read_only())
    assert (tmp_path / "app.env").read_text() == broken

    (tmp_path / "app.env").write_text(CONFIG)
    wizard, _ = _editor(stack, wizard=True, focus="APP_IP")

    async def steps() -> None:
        async with wizard.run_test(size=(100, 40)) as pilot:
            shown = [r.id for r in wizard.query(".field") if r.display]
            assert shown == ["row-APP_IP"] and wizard.focused.id == "field-APP_IP"
            await pilot.press("enter")
            await pilot.pause()
            assert [r.id for r in wizard.query(".field") if r.display] == ["row-BACKEND_PORT"]
            await pilot.press("escape")

    asyncio.run(steps())
