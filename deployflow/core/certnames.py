"""What a certificate is for and how healthy it is, as data: the names a request asks for
(DNS names, wildcards, IP addresses) checked before anything is made, whether a certificate's
names cover a domain, and its expiry graded like the other health rows. Pure functions."""

from __future__ import annotations

import ipaddress
import re
from datetime import datetime

from deployflow.errors import UsageError

__all__ = ["DEGRADED_DAYS", "covers", "expiry_grade", "parse_names"]

DEGRADED_DAYS = 14  # under this many days left, a certificate is degraded
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def _check_dns(name: str) -> str:
    name = name.lower().rstrip(".")
    labels = name.split(".")
    wild = labels[0] == "*"
    body = labels[1:] if wild else labels
    if len(name) > 253 or not body or not all(_LABEL.match(label) for label in body):
        raise UsageError(
            f"{name!r} is not a domain name or an IP address (letters, digits and '-' per "
            "label, '*.' only as the first label)"
        )
    if wild and len(body) < 2:
        raise UsageError(f"{name!r}: a wildcard needs a parent domain (*.example.com)")
    return name


def parse_names(text: str) -> list[str]:
    """`a.example,192.168.1.5,localhost` -> the names in order, without repeats; one clear
    error for the first that is neither a domain name nor an IP address."""
    names: list[str] = []
    for raw in text.split(","):
        item = raw.strip()
        if not item:
            continue
        try:
            name = str(ipaddress.ip_address(item.strip("[]")))
        except ValueError:
            name = _check_dns(item)
        if name not in names:
            names.append(name)
    if not names:
        raise UsageError("name at least one domain or IP address: --domains a.example,localhost")
    return names


def covers(names: list[str], domain: str) -> bool:
    """The certificate's names cover `domain`: an exact name or IP, or a wildcard for one
    label (*.example.com covers a.example.com, not example.com or a.b.example.com)."""
    try:
        ip = ipaddress.ip_address(domain.strip("[]"))
    except ValueError:
        ip = None
    if ip is not None:
        return str(ip) in names
    domain = domain.lower().rstrip(".")
    for name in names:
        if name == domain:
            return True
        wild = name.startswith("*.") and domain.count(".") >= 2
        if wild and domain.split(".", 1)[1] == name[2:]:
            return True
    return False


def expiry_grade(not_before: datetime, not_after: datetime, now: datetime) -> tuple[str, str]:
    """(ok | degraded | down, a detail): down when expired or not valid yet, degraded under
    DEGRADED_DAYS days left."""
    if now < not_before:
        return "down", f"not valid until {not_before:%Y-%m-%d %H:%M} UTC"
    left = not_after - now
    days = left.days
    if left.total_seconds() <= 0:
        return "down", f"expired {not_after:%Y-%m-%d} ({-days} days ago)"
    if days < DEGRADED_DAYS:
        return "degraded", f"{days} days left (renew: deployflow cert renew)"
    return "ok", f"{days} days left"
