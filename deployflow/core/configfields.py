"""The master config's fields for an editor: each one's group, kind, allowed values, help and
whether it is secret, and the problems of a set of values, from the same rules the stack loader
applies (`core.variables.validate_vars`). Pure functions."""

from __future__ import annotations

import re
from dataclasses import dataclass

from deployflow.core.configdoc import ConfigDoc
from deployflow.core.redact import is_secret_name
from deployflow.core.varrules import ENVIRONMENTS, validate_vars

__all__ = ["FieldInfo", "describe_fields", "field_problems"]

KIND_HELP = {
    "choice": "one of: {choices}",
    "ipv4": "an IPv4 address, e.g. 192.168.1.10",
    "port": "a TCP port in 1024-65535, different from the other ports",
    "password": "a secret of at least 8 characters (masked; F2 shows it)",
    "url": "a URL with a scheme and a host, e.g. https://shop.example/api",
    "text": "text",
}
_GROUPS = {"app": "general", "db": "database"}


@dataclass(frozen=True)
class FieldInfo:
    name: str
    group: str
    kind: str  # choice | ipv4 | port | password | url | text
    help: str
    secret: bool
    choices: tuple[str, ...] = ()


def _kind(name: str) -> str:
    if name == "ENVIRONMENT":
        return "choice"
    if name.endswith("_IP"):
        return "ipv4"
    if name.endswith("_PORT"):
        return "port"
    if name.endswith("_URL"):
        return "url"
    if name.endswith(("PASSWORD", "_SECRET", "_TOKEN", "_KEY")):
        return "password"
    return "text"


def _group(name: str) -> str:
    if name == "ENVIRONMENT" or "_" not in name:
        return "general"
    prefix = name.split("_", 1)[0].lower()
    return _GROUPS.get(prefix, prefix)


def describe_fields(doc: ConfigDoc, secrets: set[str] = frozenset()) -> list[FieldInfo]:
    """Every key of the file, grouped (general first, then in the order groups appear)."""
    fields = []
    for name in doc.values:
        kind = _kind(name)
        choices = ENVIRONMENTS if kind == "choice" else ()
        generic = KIND_HELP[kind].format(choices=", ".join(choices))
        own = doc.helps.get(name)
        secret = kind == "password" or name in secrets or is_secret_name(name)
        fields.append(
            FieldInfo(
                name, _group(name), kind, f"{own} ({generic})" if own else generic, secret, choices
            )
        )
    order = list(dict.fromkeys(["general", *(f.group for f in fields)]))
    return sorted(fields, key=lambda f: order.index(f.group))


_PROBLEM = re.compile(r"^vars\.([A-Za-z_][A-Za-z0-9_]*): (.*)$")


def field_problems(values: dict[str, str], environment: str) -> dict[str, str]:
    """Field -> what is wrong with it (the loader's own rules); empty when all are valid."""
    found: dict[str, str] = {}
    for line in validate_vars(values, environment):
        match = _PROBLEM.match(line)
        if match and match.group(1) not in found:
            found[match.group(1)] = match.group(2)
    for name, value in values.items():
        if ('"' in value and "'" in value) and name not in found:
            found[name] = "cannot hold both kinds of quote"
    return found
