"""The editor's fields: grouped as their names say, each with its kind, allowed values and help
(the file's comment first), secrets known; problems from the loader's own rules."""

from __future__ import annotations

from deployflow.core.configdoc import parse_doc
from deployflow.core.configfields import describe_fields, field_problems

TEXT = """\
# where the backend listens
BACKEND_PORT=18000
ENVIRONMENT=production
DB_PASSWORD=long-enough
APP_IP=127.0.0.1
API_URL=http://127.0.0.1:18000/api
"""


def test_fields_grouped_with_kinds_and_help() -> None:
    fields = describe_fields(parse_doc(TEXT))
    assert [(f.name, f.group, f.kind) for f in fields] == [
        ("ENVIRONMENT", "general", "choice"),
        ("APP_IP", "general", "ipv4"),
        ("BACKEND_PORT", "backend", "port"),
        ("DB_PASSWORD", "database", "password"),
        ("API_URL", "api", "url"),
    ]
    by = {f.name: f for f in fields}
    assert by["BACKEND_PORT"].help.startswith("where the backend listens (a TCP port")
    assert by["ENVIRONMENT"].choices == ("development", "staging", "production")
    assert by["DB_PASSWORD"].secret and not by["APP_IP"].secret


def test_problems_are_the_loaders_rules() -> None:
    values = dict(parse_doc(TEXT).values)
    assert field_problems(values, "production") == {}
    bad = {
        **values,
        "ENVIRONMENT": "prod",
        "APP_IP": "300.1.1.1",
        "BACKEND_PORT": "80",
        "DB_PASSWORD": "short",
        "API_URL": "not a url",
    }
    problems = field_problems(bad, "production")
    assert set(problems) == {"ENVIRONMENT", "APP_IP", "BACKEND_PORT", "DB_PASSWORD", "API_URL"}
    assert "at least 8 characters" in problems["DB_PASSWORD"]
    clash = field_problems({**values, "APP_PORT": "18000"}, "production")
    assert "clashes with" in clash["APP_PORT"]
