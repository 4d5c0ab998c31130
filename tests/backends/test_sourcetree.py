"""A real directory walked as the detectors' tree: bounded (a symlink loop, a 2 GB file and a
vendored dir cannot hang it), and detected through it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from deployflow.backends.sourcetree import detect_in, read_tree
from deployflow.core.detect import ProjectDetectionError
from tests.appshapes import write_shape


def test_a_link_loop_and_a_big_file_do_not_hang_it(tmp_path: Path) -> None:
    write_shape(tmp_path, "static")
    os.symlink(tmp_path, tmp_path / "loop")
    with open(tmp_path / "big.bin", "wb") as handle:
        handle.truncate(2 << 30)  # 2 GB, sparse
    (tmp_path / "node_modules" / "x").mkdir(parents=True)
    tree = read_tree(tmp_path)
    assert "loop" not in tree.files and "node_modules/x" not in tree.dirs
    assert len(tree.text("big.bin")) == 256 * 1024  # its head only
    assert detect_in(tmp_path).kind == "static"


def test_errors_name_the_directory(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("nothing to run\n")
    with pytest.raises(ProjectDetectionError, match=f"{tmp_path}: no app detected"):
        detect_in(tmp_path)
