"""A deploy run's output, line by line, as a deployment's log: Prefect's prefix shortened to the
time, the release's lifecycle read off it, and the error told in the lines that carry it."""

from __future__ import annotations

import re

__all__ = ["KINDS", "error_kind", "failure", "lifecycle", "released", "tidy"]

_PREFECT = re.compile(r"^(\d\d:\d\d:\d\d)\.\d+ \| \w+ *\| (?:Flow|Task) run '[^']*' - (.*)$")
_TIMED = re.compile(r"^\d\d:\d\d:\d\d ")
_LIFECYCLE = re.compile(r"^release (\d+): (building|deploying|live|failed)$")
_STAGE_ROW = re.compile(r"^\| ([a-z-]+) \| FAILED \|")
TAIL = 20

# the kinds of a deployment's error, and the HTTP status each answers with
KINDS = {
    "detection": 422,  # no app, or more than one, found in the upload
    "build": 422,  # its build, tests or release commands failed: the log's tail says why
    "runtime": 502,  # built, but it did not start or answer its health check
    "preflight": 409,  # the host refused it before anything changed (a port taken, say)
    "resources": 507,  # the disk or memory ran out
    "interrupted": 503,  # the API server stopped during it
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


def lifecycle(line: str) -> str | None:
    """The state a tidied line says the release entered, if it says one."""
    found = _LIFECYCLE.match(line.partition(" ")[2])
    return found[2] if found else None


def released(lines: list[str]) -> str | None:
    """The release a run's tidied lines say went live."""
    for line in lines:
        found = _LIFECYCLE.match(line.partition(" ")[2])
        if found and found[2] == "live":
            return found[1]
    return None


def failure(lines: list[str], code: int) -> str:
    """Why a run failed, from its tidied lines: the CLI's own last line (its error), then the
    log's tail."""
    said = [line for line in lines if not _TIMED.match(line) and line.strip()]
    headline = said[-1] if said else f"the deploy run exited {code}"
    tail = "\n".join(lines[-TAIL:])
    return f"{headline}\n--- the log's last lines ---\n{tail}"


def error_kind(lines: list[str]) -> str:
    """The kind of a failed run's error, from its tidied lines (the report's stage table)."""
    if any(_RESOURCES.search(line) for line in lines[-200:]):
        return "resources"
    for line in lines:
        found = _STAGE_ROW.match(line)
        if found:
            return _STAGES.get(found[1], "internal")
    return "internal"
