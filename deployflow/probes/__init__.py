"""Health probes with explicit timeouts, and one wait helper with growing back-off."""

from deployflow.probes.base import ProbeResult
from deployflow.probes.checks import (
    database_probe,
    http_probe,
    mysql_probe,
    probe_for,
    tcp_probe,
    ws_probe,
)
from deployflow.probes.wait import wait_until_healthy

__all__ = [
    "ProbeResult",
    "database_probe",
    "http_probe",
    "mysql_probe",
    "probe_for",
    "tcp_probe",
    "wait_until_healthy",
    "ws_probe",
]
