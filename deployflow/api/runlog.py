"""A deploy run as a deployment: its output, line by line, as the deployment's log (Prefect's
prefix shortened to the time) with the release's lifecycle read off it for progress; its end
(live or error, why and of which kind) from the summary the run printed as JSON, the same
result every front door returns."""

from __future__ import annotations

import re
from typing import Any, NamedTuple

__all__ = ["KINDS", "Ended", "ended", "lifecycle", "tidy"]

_PREFECT = re.compile(r"^(\d\d:\d\d:\d\d)\.\d+ \| \w+ *\| (?:Flow|Task) run '[^']*' - (.*)$")
_TIMED = re.compile(r"^\d\d:\d\d:\d\d ")
_LIFECYCLE = re.compile(r"^release (\d+): (building|deploying|live|failed)$")
TAIL = 20

# the kinds of a deployment's error, and the HTTP status each answers with
KINDS = {
    "detection": 422,  # no app, or more than one, found in the upload
    "build": 422,  # its build, tests or release commands failed: the log's tail says why
    "runtime": 502,  # built, but it did not start or answer its health check
    "preflight": 409,  # the host refused it before anything changed (a port taken, say)
    "resources": 507,  # the disk or memory ran out
    "interrupted": 503,  # the API server stopped during it, or its run was killed
    "internal": 500,
}
_STAGES = {
    **dict.fromkeys(("build", "assemble", "test", "release", "migrate"), "build"),
    **dict.fromkeys(("stop", "switch", "start", "verify", "after-start", "drain"), "runtime"),
    "preflight": "preflight",
}
_RESOURCES = re.compile(
    r"no space left on device|out of memory|oom-kill|preflight failed: .*disk space", re.I
)


class Ended(NamedTuple):
    """How a deploy run ended: live, or the error (headline, then the log's tail) and its kind."""

    live: bool
    error: str | None = None
    kind: str | None = None


def tidy(line: str) -> str | None:
    """`09:01:55.315 | INFO | Flow run 'deploy-x' - release 1: live` -> `09:01:55 release 1:
    live`; other lines as they are, without trailing space. None: a line that says nothing (a
    task's "Finished in state Completed()")."""
    line = line.rstrip()
    found = _PREFECT.match(line)
    if not found:
        return line
    if found[2] == "Finished in state Completed()":
        return None
    return f"{found[1]} {found[2]}"


def lifecycle(line: str) -> tuple[str, str] | None:
    """The release and the state a tidied line says it entered, if it says one."""
    found = _LIFECYCLE.match(line.partition(" ")[2])
    return (found[1], found[2]) if found else None


def _headline(summary: dict[str, Any] | None, lines: list[str], code: int) -> str:
    """The error in one line: the run's own (with what became of the release), else the CLI's
    last line (it failed before the run had a summary), else the exit code."""
    if summary and summary.get("error"):
        return f"{summary['error']} ({summary.get('result')})"
    said = [line for line in lines if not _TIMED.match(line) and line.strip()]
    if said:
        return said[-1]
    return f"the deploy run exited {code}" if code >= 0 else f"the deploy run was killed ({code})"


def _kind(summary: dict[str, Any] | None, headline: str, lines: list[str], code: int) -> str:
    if _RESOURCES.search(headline) or any(_RESOURCES.search(line) for line in lines[-200:]):
        return "resources"
    failed = [s["name"] for s in (summary or {}).get("stages", []) if s.get("status") == "failed"]
    if failed:
        return _STAGES.get(failed[0], "internal")
    return "interrupted" if code < 0 else "internal"  # killed by a signal: no summary written


def ended(summary: dict[str, Any] | None, lines: list[str], code: int) -> Ended:
    """The end of a run that exited `code` (negative: the signal that killed it), printed
    `summary` (None: none, or not JSON) and said `lines` (tidied)."""
    if code == 0 and summary is not None and summary.get("result") == "success":
        return Ended(True)
    headline = _headline(summary, lines, code)
    tail = "\n".join(lines[-TAIL:])
    told = f"{headline}\n--- the log's last lines ---\n{tail}"
    return Ended(False, told, _kind(summary, headline, lines, code))
