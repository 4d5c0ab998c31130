"""Which paths `deployflow deploy` leaves out: gitignore-style rules, and always .git, .venv and
node_modules."""

from __future__ import annotations

import pytest

from deployflow.core.ignorefile import ignored, parse_rules

RULES = parse_rules(
    """
# a comment, then blank lines

*.log
build/
/top.txt
docs/**/*.tmp
!keep.log
secrets/*.env
"""
)


@pytest.mark.parametrize(
    ("path", "is_dir", "out"),
    [
        ("app.log", False, True),
        ("sub/deep/app.log", False, True),
        ("keep.log", False, False),  # negated after *.log: the last match wins
        ("build", True, True),
        ("build", False, False),  # build/ names directories only
        ("src/build", True, True),
        ("top.txt", False, True),
        ("sub/top.txt", False, False),  # anchored at the root
        ("docs/a/b/x.tmp", False, True),
        ("docs/x.tmp", False, True),  # **/ matches no directory too
        ("secrets/prod.env", False, True),
        ("secrets/nested/prod.env", False, False),  # * stops at a slash
        ("main.py", False, False),
        (".git", True, True),
        ("sub/node_modules", True, True),
        (".venv", True, True),
    ],
)
def test_rules(path: str, is_dir: bool, out: bool) -> None:
    assert ignored(path, is_dir, RULES) is out


def test_no_rules_keep_everything_but_the_always_left_out() -> None:
    assert not ignored("index.html", False, [])
    assert ignored("a/b/.git", True, [])
