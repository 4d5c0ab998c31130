"""The tree an archive would make: members through links, replaced entries and escaping links."""

from __future__ import annotations

from deployflow.core.archivetree import MemberTree


def test_a_plain_tree_with_inner_links_is_admitted() -> None:
    tree = MemberTree()
    assert tree.admit("app", "dir") is None
    assert tree.admit("app/storage", "dir") is None
    assert tree.admit("app/storage", "dir") is None  # a directory listed twice is fine
    assert tree.admit("app/storage/a.txt", "file") is None
    assert tree.admit("app/link", "symlink", "storage/a.txt") is None
    assert tree.admit("app/hard", "hardlink", "app/storage/a.txt") is None
    assert tree.escaping_link() is None


def test_members_through_links_and_escapes_are_named() -> None:
    tree = MemberTree()
    assert tree.admit("s/a", "symlink", "..") is None
    assert "goes through the symlink 's/a'" in (tree.admit("s/a/b", "symlink", "..") or "")
    assert "hard link through a symlink" in (tree.admit("s/h", "hardlink", "s/a/x") or "")
    assert tree.escaping_link() is None  # s/a -> .. is the tree's root: still inside
    tree.admit("s/up", "symlink", "a/..")
    assert "'s/up' links outside" in (tree.escaping_link() or "")


def test_resolve_follows_links_and_stops_loops() -> None:
    tree = MemberTree()
    tree.admit("x", "symlink", "y/z")
    tree.admit("l1", "symlink", "l2")
    tree.admit("l2", "symlink", "l1")
    assert tree.resolve(("x", "f")) == ("y", "z", "f")
    assert tree.resolve(("l1",)) is None
