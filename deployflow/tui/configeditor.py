"""`deployflow config edit`: the master config in a Textual form. Fields grouped as the file's
names say (general, backend, database, ...), each with its kind, allowed values and help; values
judged as you type by the stack loader's own rules, errors inline and Save disabled while any
is wrong; a masked diff before saving; Save backs up and writes atomically; Esc asks before it
drops changes; Reset and Cancel leave the file as it was. `--wizard` shows one field at a time."""

from __future__ import annotations

from collections.abc import Callable

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from deployflow.core.configfields import FieldInfo
from deployflow.errors import DeployflowError
from deployflow.ops.configedit import EditSession

__all__ = ["ConfigEditor"]

HINTS = "^S save  F3 preview  F2 secrets  ^R reset  F1 help  Esc cancel"
KEYS = (
    "Tab / Shift+Tab: next / previous field    Ctrl+S: save    F3: preview the change\n"
    "F2: show or hide secrets    Ctrl+R: reset to the file    Esc: cancel    F1: this help"
)


class TextScreen(ModalScreen[bool]):
    """A text (a diff, help, a question) over the form; Enter/y answers yes, Esc/n no."""

    BINDINGS = [
        Binding("escape,n", "answer(False)", "Back"),
        Binding("enter,y", "answer(True)", "OK"),
    ]

    def __init__(self, title: str, text: str, question: str = "Enter: OK") -> None:
        super().__init__()
        self.title_text, self.text, self.question = title, text, question

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(self.title_text, id="dialog-title")
            with VerticalScroll():
                yield Static(self.text, id="dialog-text", markup=False)
            yield Static(self.question, id="dialog-question")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


class ConfigEditor(App[str | None]):
    """Returns the id of the backup taken before saving, or None when nothing was saved."""

    CSS = """
    .group { text-style: bold; margin: 1 0 0 0; color: $accent; }
    .field { height: auto; }
    .row { height: auto; margin: 0 0 0 1; }
    .label { width: 24; padding: 1 0 0 0; }
    .field Input { width: 1fr; }
    .help { color: $text-muted; margin: 0 0 0 25; }
    .help.error { color: $error; }
    #banner { color: $error; text-style: bold; }
    #title { text-style: bold; background: $primary; color: $text; }
    #hints { color: $text-muted; }
    #status { height: 1; }
    #buttons { height: 3; }
    #dialog { width: 90%; height: 80%; border: thick $accent; background: $surface; }
    #dialog-title { text-style: bold; }
    """
    BINDINGS = [
        Binding("ctrl+s", "save", "Save"),
        Binding("f3", "preview", "Preview"),
        Binding("f2", "reveal", "Secrets"),
        Binding("ctrl+r", "reset", "Reset"),
        Binding("f1", "help", "Help"),
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(
        self,
        session: EditSession,
        save: Callable[[dict[str, str]], str],
        focus: str | None = None,
        wizard: bool = False,
    ) -> None:
        super().__init__()
        self.session, self.save_values, self.wizard = session, save, wizard
        self.values = dict(session.values)
        self.first = focus
        self.step = 0
        self.revealed = False

    # -- layout -------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static(f"deployflow config edit: {self.session.path.name}", id="title")
        if self.session.error:
            yield Static(f"read-only: {self.session.error}", id="banner", markup=False)
        with VerticalScroll(id="form"):
            group = None
            for info in self.session.fields:
                if info.group != group:
                    group = info.group
                    yield Static(f"{group.title()} settings", classes="group")
                yield from self._row(info)
        yield Static("", id="status", markup=False)
        with Horizontal(id="buttons"):
            if self.wizard:
                yield Button("Back", id="back")
                yield Button("Next", id="next", variant="primary")
            yield Button("Save", id="save", variant="success")
            yield Button("Preview", id="preview")
            yield Button("Reset", id="reset")
            yield Button("Cancel", id="cancel", variant="error")
        yield Static(HINTS, id="hints")  # a line, not a Footer: it starts faster

    def _row(self, info: FieldInfo) -> ComposeResult:
        with Vertical(classes="field", id=f"row-{info.name}"):
            with Horizontal(classes="row"):
                yield Static(f"{info.name} ({info.kind})", classes="label", markup=False)
                yield Input(
                    self.values[info.name],
                    password=info.secret,
                    id=f"field-{info.name}",
                    disabled=self.session.doc is None,
                )
            yield Static(info.help, classes="help", id=f"help-{info.name}", markup=False)

    def on_mount(self) -> None:
        self._judge()
        names = [f.name for f in self.session.fields]
        if self.wizard:
            self.step = names.index(self.first) if self.first in names else 0
            self._show_step()
        elif names:
            self.query_one(f"#field-{self.first if self.first in names else names[0]}").focus()

    # -- state --------------------------------------------------------------------------

    def _judge(self) -> dict[str, str]:
        problems = self.session.problems(self.values) if self.session.doc else {}
        for info in self.session.fields:
            why = problems.get(info.name, "")
            below = self.query_one(f"#help-{info.name}", Static)
            below.update(f"! {why}" if why else info.help)  # the error, in place of the help
            below.set_class(bool(why), "error")
        changed = self.session.doc is not None and self.values != self.session.values
        save = self.query_one("#save", Button)
        save.disabled = bool(problems) or not changed
        if self.session.doc is None:
            status = "read-only: fix the file by hand, then open the editor again"
        elif problems:
            focused = self.focused.id if self.focused else ""
            name = next((n for n in problems if f"field-{n}" == focused), next(iter(problems)))
            status = f"{len(problems)} to fix before saving; {name}: {problems[name]}"
        else:
            status = "unsaved changes (Ctrl+S saves, F3 previews)" if changed else "no changes"
        self.query_one("#status", Static).update(status)
        return problems

    def on_input_changed(self, event: Input.Changed) -> None:
        name = (event.input.id or "").removeprefix("field-")
        if name in self.values:
            self.values[name] = event.value
            self._judge()

    def _show_step(self) -> None:
        names = [f.name for f in self.session.fields]
        for index, name in enumerate(names):
            self.query_one(f"#row-{name}").display = index == self.step
        for group in self.query(".group"):
            group.display = False
        self.query_one(f"#field-{names[self.step]}").focus()
        where = f"field {self.step + 1} of {len(names)}"
        self.query_one("#title", Static).update(
            f"deployflow config edit: {self.session.path.name} ({where})"
        )

    # -- actions ------------------------------------------------------------------------

    def on_button_pressed(self, event: Button.Pressed) -> None:
        actions = {
            "save": self.action_save,
            "preview": self.action_preview,
            "reset": self.action_reset,
            "cancel": self.action_cancel,
            "next": lambda: self._move(1),
            "back": lambda: self._move(-1),
        }
        actions[event.button.id or "cancel"]()

    def _move(self, by: int) -> None:
        self.step = max(0, min(len(self.session.fields) - 1, self.step + by))
        self._show_step()

    def on_input_submitted(self, _event: Input.Submitted) -> None:
        if self.wizard:
            self._move(1)

    def action_save(self) -> None:
        if self.query_one("#save", Button).disabled:
            self.bell()
            return
        changed = self.session.disk_change()
        if changed:
            self.push_screen(
                TextScreen(
                    "The file changed on disk since the editor opened it: not saved",
                    changed,
                    "Esc: back (reopen the editor to edit the new file)",
                )
            )
            return
        try:
            backup = self.save_values(dict(self.values))
        except DeployflowError as exc:
            self.query_one("#status", Static).update(f"not saved: {exc}")
            return
        self.exit(backup)

    def action_preview(self) -> None:
        if self.session.doc is None:
            return
        diff = self.session.preview(self.values) or "(no changes)"
        self.push_screen(TextScreen("What saving would change (secrets masked)", diff))

    def action_reset(self) -> None:
        for name, value in self.session.values.items():
            self.query_one(f"#field-{name}", Input).value = value
        self.values = dict(self.session.values)
        self._judge()

    def action_reveal(self) -> None:
        self.revealed = not self.revealed
        for info in self.session.fields:
            if info.secret:
                self.query_one(f"#field-{info.name}", Input).password = not self.revealed

    def action_help(self) -> None:
        focused = self.focused
        name = (focused.id or "").removeprefix("field-") if isinstance(focused, Input) else ""
        info = next((f for f in self.session.fields if f.name == name), None)
        about = f"{info.name}: {info.help}\n\n" if info else ""
        self.push_screen(TextScreen("Help", about + KEYS))

    def action_cancel(self) -> None:
        if self.session.doc is None or self.values == self.session.values:
            self.exit(None)
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.exit(None)

        self.push_screen(
            TextScreen("Discard your changes?", "The file stays as it is.", "y: discard  n: back"),
            answered,
        )
