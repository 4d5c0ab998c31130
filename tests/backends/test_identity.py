"""Who a target's worker runs as: the declared user, the asked-for default, never root unasked."""

from __future__ import annotations

import os

import pytest

from deployflow.backends.identity import WORKER_USER, worker_identity
from deployflow.errors import StackError

as_root = pytest.mark.skipif(os.geteuid() != 0, reason="the root rules need root")


@as_root
def test_root_runs_no_worker_for_a_target_naming_no_user(monkeypatch) -> None:
    monkeypatch.delenv(WORKER_USER, raising=False)
    with pytest.raises(StackError, match=r"names no user.*targets\.web\.user"):
        worker_identity(None, "web")


@as_root
def test_root_when_asked(monkeypatch) -> None:
    monkeypatch.setenv(WORKER_USER, "root")
    who = worker_identity(None, "web")
    assert (who.name, who.uid, who.switch) == ("root", 0, False)


@as_root
def test_the_declared_user_over_the_default(monkeypatch) -> None:
    monkeypatch.setenv(WORKER_USER, "root")
    who = worker_identity("nobody", "web")
    assert who.name == "nobody" and who.uid != 0 and who.switch


def test_an_unknown_user_is_one_line() -> None:
    with pytest.raises(StackError, match=r"user .no-such-user. does not exist.*useradd"):
        worker_identity("no-such-user", "web")
