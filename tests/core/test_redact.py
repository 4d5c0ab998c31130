"""Secrets are masked by value, in the forms they travel in; names only decide what is one."""

from __future__ import annotations

import base64
from urllib.parse import quote

import pytest

from deployflow.core.redact import MASK, Redactor, is_secret_name


@pytest.mark.parametrize(
    "name",
    ["STRIPE_KEY", "DB_PASSWORD", "GITHUB_TOKEN", "SENTRY_DSN", "BASIC_AUTH", "HASH_SALT",
     "MAIL_PWD", "GCP_CREDENTIALS", "JWT_PRIVATE", "APP_SECRET", "db_pass"],
)  # fmt: skip
def test_secret_like_names(name: str) -> None:
    assert is_secret_name(name)


@pytest.mark.parametrize("name", ["APP_IP", "BACKEND_PORT", "PWA_PORT", "DB_USERNAME", "API_URL"])
def test_plain_names(name: str) -> None:
    assert not is_secret_name(name)


def test_every_form_of_a_value_is_masked() -> None:
    value = "p@ss w/rd+Sx9"
    redact = Redactor([value])
    lines = [
        f"plain {value}",
        f"url postgresql://u:{quote(value, safe='')}@db/x",
        f"basic {base64.b64encode(value.encode()).decode()}",
        f"jwt-ish {base64.urlsafe_b64encode(value.encode()).decode().rstrip('=')}",
    ]
    for line in lines:
        masked = redact(line)
        assert MASK in masked and "Sx9" not in masked, masked


def test_short_values_are_not_masked_everywhere() -> None:
    assert Redactor(["ab", ""])("ab cd") == "ab cd"
