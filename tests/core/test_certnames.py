"""Certificate names and grades as data: what a request may ask for, what a certificate
covers (wildcards one label deep, IPs exactly), and expiry graded like health rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from deployflow.core.certnames import covers, expiry_grade, parse_names
from deployflow.errors import UsageError


def test_names_parse_in_order_without_repeats() -> None:
    names = parse_names(" a.example , 192.168.1.5,localhost,A.example,[::1],*.b.example")
    assert names == ["a.example", "192.168.1.5", "localhost", "::1", "*.b.example"]


@pytest.mark.parametrize(
    "bad", ["", ",", "bad_name!", "-a.example", "a..example", "*.com", "a.*.example", "x" * 64]
)
def test_bad_names_are_one_clear_error(bad: str) -> None:
    with pytest.raises(UsageError):
        parse_names(bad)


def test_covers() -> None:
    names = ["a.example", "*.b.example", "10.0.0.5"]
    assert covers(names, "a.example") and covers(names, "A.Example.")
    assert covers(names, "x.b.example") and not covers(names, "b.example")
    assert not covers(names, "y.x.b.example") and covers(names, "10.0.0.5")
    assert not covers(names, "10.0.0.6") and not covers(names, "c.example")


def test_expiry_grades() -> None:
    now = datetime(2026, 11, 30, tzinfo=UTC)
    day = timedelta(days=1)
    assert expiry_grade(now - day, now + 100 * day, now)[0] == "ok"
    assert expiry_grade(now - day, now + 13 * day, now) == (
        "degraded",
        "13 days left (renew: deployflow cert renew)",
    )
    assert expiry_grade(now - 9 * day, now - 2 * day, now)[1].startswith("expired 2026-11-28")
    assert expiry_grade(now + day, now + 9 * day, now)[0] == "down"  # not valid yet
