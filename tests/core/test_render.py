"""Templates render in Jinja's sandbox; bad templates are bad input naming template and line."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deployflow.core.configs import mask_by_markers
from deployflow.core.render import render_string
from deployflow.errors import ConfigError


@pytest.mark.parametrize(
    ("text", "context", "message"),
    [
        ("a\n{{ lipsum.__globals__['os'].popen('id') }}", {}, "t.j2:2: unsafe template code"),
        ("{{ lipsum.__globals__['os'].environ }}", {}, "t.j2:1: unsafe template code"),
        ("x\n\n{{ 1/0 }}", {}, "t.j2:3: template error: ZeroDivisionError"),
        ("{{ A }}\n{{ B }}", {"A": "1", "B": ""}, "t.j2:2: B is empty"),
        ("l1\n{{ release.id }}", {"release": {}}, "t.j2:2: 'dict object' has no attribute 'id'"),
        ("{{ nope }}", {}, "t.j2:1: 'nope' is undefined"),
        ("{% if %}", {}, "t.j2:1: template syntax error"),
    ],
)
def test_bad_templates_are_one_clear_error(text: str, context: dict, message: str) -> None:
    with pytest.raises(ConfigError, match="^" + message.replace("[", r"\[").replace("(", r"\(")):
        render_string(text, context, "t.j2")


def test_filters_work() -> None:
    assert render_string("{{ X|urlencode }}", {"X": "a b"}, "t") == "a%20b"


def test_a_transformed_secret_is_masked_by_where_it_flows() -> None:
    real = "a=1\nP=x%20y\nL=3\nU=SECRETVALUE\n"
    marked = "a=1\nP=DFSECRETMARKER0X\nL=16\nU=dfsecretmarker0x\n"
    assert mask_by_markers(real, marked) == (
        "a=1\nP=********\n******** (a line derived from a secret)\nU=********\n"
    )


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=60))
def test_fuzz_any_template_renders_or_is_a_config_error(text: str) -> None:
    with contextlib.suppress(ConfigError):
        render_string(text, {"A": "1", "release": {"id": "r1"}}, "fuzz.j2")
