"""The rules the master config's values follow (an allowed ENVIRONMENT, IPv4 addresses, ports
that do not clash, passwords long enough, URLs that parse): one source for the stack loader
and the config editor, which checks them as you type. Pure, and light to import."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from urllib.parse import urlsplit

__all__ = ["ENVIRONMENTS", "MIN_PASSWORD", "validate_vars"]

ENVIRONMENTS = ("development", "staging", "production")
MIN_PASSWORD = 8


def validate_vars(values: Mapping[str, str], environment: str) -> list[str]:
    """Every rule broken, as `vars.NAME: problem; fix` lines (empty when valid)."""
    problems: list[str] = []
    env = values.get("ENVIRONMENT")
    if env is not None and env not in ENVIRONMENTS:
        problems.append(f"vars.ENVIRONMENT: {env!r} is not one of {', '.join(ENVIRONMENTS)}")
    elif env is not None and env != environment:
        problems.append(
            f"vars.ENVIRONMENT: {env!r} differs from environment: {environment!r}; make them agree"
        )
    ports: dict[int, str] = {}
    for name, value in values.items():
        if name.endswith("_IP"):
            try:
                ipaddress.IPv4Address(value)
            except ValueError:
                problems.append(f"vars.{name}: {value!r} is not a valid IPv4 address")
        if name.endswith("_PORT"):
            if not value.isdigit() or not 1024 <= int(value) <= 65535:
                problems.append(f"vars.{name}: {value!r} is not a port in 1024-65535")
                continue
            port = int(value)
            if port in ports:
                problems.append(f"vars.{name}: port {port} clashes with vars.{ports[port]}")
            ports[port] = name
    for name, value in values.items():
        credential = name.endswith(("USERNAME", "USER", "PASSWORD", "DATABASE"))
        if name.startswith("DB_") and credential and not value.strip():
            problems.append(f"vars.{name}: database credentials must not be empty")
        elif name.endswith("PASSWORD") and len(value) < MIN_PASSWORD:
            problems.append(f"vars.{name}: a password needs at least {MIN_PASSWORD} characters")
        if name.endswith("_URL") and "{{" not in value:
            parts = urlsplit(value)
            if not parts.scheme or not parts.netloc:
                problems.append(f"vars.{name}: {value!r} is not a URL (scheme://host/...)")
    return problems
