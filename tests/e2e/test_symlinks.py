"""The release path never follows a link out of the root: a symlinked dir in an app's source,
a shared path or a config dest through a link to elsewhere. Each is one line, the live release
stays, and nothing outside the root is deleted, moved or written."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.conftest import Stack


def _refused(stack: Stack, says: str) -> None:
    proc = stack.cli("run", "full", "--plain", check=False)
    assert proc.returncode != 0 and "Traceback" not in proc.stderr, proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and says in errors[0], proc.stderr


def test_links_out_of_the_root_are_refused_and_nothing_outside_is_touched(
    stack: Stack, tmp_path: Path
) -> None:
    stack.cli("run", "full")
    live = stack.current()
    outside = tmp_path / "elsewhere"
    (outside / "storage").mkdir(parents=True)
    (outside / "storage" / "precious.txt").write_text("keep me")

    # a dir of the source that links out, named by shared: (the case that deleted data)
    link = stack.dir / "apps" / "backend" / "data"
    link.symlink_to(outside)
    stack.edit("shared: [storage/]", "shared: [storage/, data/storage/]")
    stack.set_version("backend", "2.0.0")
    _refused(stack, "apps.backend.source: data is a symlink to")
    link.unlink()

    # a shared dir someone pointed elsewhere by hand: a config is not written through it
    stack.edit("shared: [storage/, data/storage/]", "shared: [storage/, cfg/]")
    stack.edit("dest: .env, mode:", "dest: cfg/app.env, mode:")
    shared_cfg = stack.root / "shared" / "backend" / "cfg"
    shared_cfg.parent.mkdir(parents=True, exist_ok=True)
    shared_cfg.symlink_to(outside / "storage")
    _refused(stack, "a symlink out of")

    assert stack.current() == live and stack.health()["release"] == live
    assert sorted(p.name for p in (outside / "storage").iterdir()) == ["precious.txt"]
    assert (outside / "storage" / "precious.txt").read_text() == "keep me"
    assert [p.name for p in outside.iterdir()] == ["storage"]
