"""The master config as a document: values written back into their own lines with comments,
blank lines and key order kept byte for byte; quoting that parse_env reads back; a diff that
never shows a secret's value; a line that is not KEY=VALUE named."""

from __future__ import annotations

import pytest

from deployflow.core.configdoc import masked_diff, parse_doc, render_doc
from deployflow.core.envfile import parse_env
from deployflow.errors import StackError

TEXT = """\
# Master config
# the environment
ENVIRONMENT=production

APP_IP=127.0.0.1  # inline note
DB_PASSWORD="s3cret pass"
"""


def test_values_helps_and_a_byte_identical_round_trip() -> None:
    doc = parse_doc(TEXT)
    assert list(doc.values) == ["ENVIRONMENT", "APP_IP", "DB_PASSWORD"]
    assert doc.helps == {"ENVIRONMENT": "Master config the environment"}
    assert render_doc(doc, dict(doc.values)) == TEXT


@pytest.mark.parametrize("value", ["plain", "with space", 'say "hi"', "it's", "a#b", "", "$HOME"])
def test_changed_values_read_back_as_written(value: str) -> None:
    doc = parse_doc(TEXT)
    text = render_doc(doc, {**doc.values, "APP_IP": value})
    assert parse_env(text)["APP_IP"] == value
    assert text.splitlines()[:3] == TEXT.splitlines()[:3]  # comments and order kept


def test_diff_masks_secrets_and_bad_lines_are_named() -> None:
    doc = parse_doc(TEXT)
    new = render_doc(doc, {**doc.values, "DB_PASSWORD": "n3w-pass", "APP_IP": "10.0.0.2"})
    diff = masked_diff(TEXT, new, {"DB_PASSWORD"})
    assert "+APP_IP=10.0.0.2" in diff and "s3cret" not in diff and "n3w-pass" not in diff
    assert diff.endswith("# DB_PASSWORD: changed (value hidden)")
    with pytest.raises(StackError, match=":3: expected KEY=VALUE"):
        parse_doc("A=1\n# ok\nthis is not a setting\n")
