"""The master config: references expanded once in dependency order, secrets never rendered."""

from __future__ import annotations

import pytest

from deployflow.core.stack import SecretRef
from deployflow.core.variables import resolve_vars
from deployflow.errors import StackError


def _resolve(raw: dict, environ: dict | None = None, listed: tuple[str, ...] = (), file=None):
    return resolve_vars(raw, file or {}, environ or {}, {}, "secrets.env", secret_names=listed)


@pytest.mark.parametrize("value", ["Sx9{{ 7*7 }}Zq", "Sx9{%Zq", "{{ DB_HOST }}"])
def test_a_secret_value_is_data_never_a_template(value: str) -> None:
    raw = {
        "DB_PASSWORD": SecretRef(secret="PW"),
        "DB_HOST": "db",
        "DATABASE_URL": "postgresql://app:{{ DB_PASSWORD }}@{{ DB_HOST }}/app",
    }
    resolved = _resolve(raw, {"PW": value})
    assert resolved.secret["DB_PASSWORD"].get_secret_value() == value
    assert resolved.plain["DATABASE_URL"] == f"postgresql://app:{value}@db/app"


def test_a_key_named_without_the_old_words_is_a_secret() -> None:
    resolved = _resolve({"STRIPE_KEY": "sk_live_{{ 1 }}", "PUBLIC": "x"})
    assert resolved.secret["STRIPE_KEY"].get_secret_value() == "sk_live_{{ 1 }}"
    assert "STRIPE_KEY" not in resolved.plain


def test_secrets_listed_in_the_stack_are_secrets() -> None:
    resolved = _resolve({"WEBHOOK_URL": "https://hooks.example/abc"}, listed=("WEBHOOK_URL",))
    assert "WEBHOOK_URL" in resolved.secret and not resolved.plain


def test_env_file_values_are_data_and_inline_vars_refer_to_them() -> None:
    resolved = _resolve(
        {"B": "{{ A }}-{{ C }}", "C": "c"}, file={"A": "{{ literally }}", "PORT": "80"}
    )
    assert resolved.plain["B"] == "{{ literally }}-c" and resolved.plain["A"] == "{{ literally }}"


def test_references_resolve_in_any_order_and_cycles_are_one_line() -> None:
    assert _resolve({"A": "{{ B }}!", "B": "{{ C }}", "C": "c"}).plain["A"] == "c!"
    with pytest.raises(StackError, match=r"vars.A: refers to itself \(A -> B -> A\)"):
        _resolve({"A": "{{ B }}", "B": "{{ A }}"})


def test_a_secret_composed_of_other_vars_is_rendered_once() -> None:
    raw = {
        "DB_PASSWORD": SecretRef(secret="PW"),
        "DB_USER": "app",
        "DATABASE_DSN": "mysql://{{ DB_USER }}:{{ DB_PASSWORD }}@db/app",
    }
    resolved = _resolve(raw, {"PW": "p{{ 7*7 }}"})
    assert resolved.secret["DATABASE_DSN"].get_secret_value() == "mysql://app:p{{ 7*7 }}@db/app"
