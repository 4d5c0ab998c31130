"""`deployflow logs [SERVICE|APP|all]`: services' and apps' logs merged by time, filtered by
time, level and regex, coloured by level, followed live with -f, exported or printed as JSON."""

from __future__ import annotations

import io
import json
import os
import re
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TextIO

import typer

from deployflow.cli.common import RootOpt, StackOpt, load
from deployflow.errors import UsageError

if TYPE_CHECKING:
    from deployflow.core.logparse import Entry
    from deployflow.ops.logs import LogQuery

_COLOUR = {"debug": "\x1b[2m", "warning": "\x1b[33m", "error": "\x1b[31m", "critical": "\x1b[1;31m"}
_RESET = "\x1b[0m"
# control characters (escape sequences in a log must not drive the terminal), tab kept
_UNPRINTABLE = {c: "\ufffd" for c in [*range(0, 9), *range(10, 32), 127]}
_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f]")


def _plain(entry: Entry, width: int) -> str:
    prefix = f"{entry.source:<{width}} | "
    text = entry.lines[0] if len(entry.lines) == 1 else entry.text
    if _CONTROL.search(text.replace("\n", " ")):
        text = "\n".join(line.translate(_UNPRINTABLE) for line in text.split("\n"))
    return prefix + text.replace("\n", "\n" + prefix)


def _json(entry: Entry) -> str:
    return json.dumps(
        {
            "time": entry.time.isoformat() if entry.time else None,
            "source": entry.source,
            "level": entry.level,
            "kind": entry.kind,
            "message": entry.lines[0],
            "lines": entry.text.split("\n"),
        }
    )


def _write(entries: Iterable[Entry], out: TextIO, width: int, as_json: bool, colour: bool) -> int:
    count = 0
    batch: list[str] = []
    for entry in entries:
        text = _json(entry) if as_json else _plain(entry, width)
        if colour and entry.level in _COLOUR:
            text = f"{_COLOUR[entry.level]}{text}{_RESET}"
        batch.append(text)
        count += 1
        if len(batch) >= 512:
            out.write("\n".join(batch) + "\n")
            batch = []
    if batch:
        out.write("\n".join(batch) + "\n")
    return count


def _query(
    lines: int | None,
    level: str | None,
    search: str | None,
    since: str | None,
    until: str | None,
    follow: bool,
    parse: bool,
) -> LogQuery:
    from deployflow.core.logparse import LEVELS
    from deployflow.core.timespec import parse_when
    from deployflow.ops.logs import LogQuery

    if level is not None and level.lower() not in LEVELS:
        raise UsageError(f"--level {level!r}: use one of {', '.join(LEVELS)}")
    try:
        regex = re.compile(search) if search is not None else None
    except re.error as exc:
        raise UsageError(f"--search {search!r} is not a valid regex: {exc}") from None
    now = datetime.now(UTC)
    filtered = any(x is not None for x in (search, since, until, level))
    if lines is None:
        lines = 10 if follow else (None if filtered else 100)
    return LogQuery(
        since=parse_when(since, now, "--since") if since else None,
        until=parse_when(until, now, "--until") if until else None,
        level=level.lower() if level else None,
        search=regex,
        lines=lines or None,
        parse=parse,
    )


def logs(
    which: Annotated[
        str, typer.Argument(help="A service, an app, or all (merged by time).")
    ] = "all",
    stack: StackOpt = "deployflow.yaml",
    root: RootOpt = None,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep printing new lines (Ctrl-C stops).")
    ] = False,
    lines: Annotated[
        int | None,
        typer.Option(
            "--lines",
            "-n",
            min=0,
            help="The last N entries (default 100; all that match a filter; 0: all).",
        ),
    ] = None,
    level: Annotated[
        str | None,
        typer.Option("--level", help="The least level: debug|info|warning|error|critical."),
    ] = None,
    search: Annotated[str | None, typer.Option("--search", help="A regex (Python syntax).")] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="30m, 1h, 2d or an ISO time.")
    ] = None,
    until: Annotated[
        str | None, typer.Option("--until", help="30m, 1h, 2d or an ISO time.")
    ] = None,
    export: Annotated[
        Path | None, typer.Option("--export", help="Write plain text to this file instead.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per entry.")] = False,
) -> None:
    """Logs of services and apps: Laravel, nginx, Python and generic lines parsed, stack traces
    kept with their entry, sources merged by time; exit 2 on bad input."""
    from deployflow.ops.logs import follow_logs, log_sources, masked, read_logs

    if export is not None and follow:
        raise UsageError("--export writes what is there now; leave out --follow")
    colour = sys.stdout.isatty() and not as_json and not os.environ.get("NO_COLOR")
    query = _query(lines, level, search, since, until, follow, parse=as_json or colour)
    ctx = load(stack, root, read_only=True)
    sources = log_sources(ctx, which)
    width = max((len(s.name) for s in sources), default=8)
    if export is not None:
        from deployflow.backends.files import atomic_file

        with atomic_file(export.resolve()) as raw:
            out = io.TextIOWrapper(raw, encoding="utf-8")
            entries = masked(read_logs(sources, query), ctx.redact)
            count = _write(entries, out, width, as_json, colour=False)
            out.flush()
            out.detach()
        typer.echo(f"{count} entries written to {export}", err=True)
        return
    found = follow_logs(sources, query) if follow else read_logs(sources, query)
    entries = masked(found, ctx.redact)
    try:
        if follow:  # one entry at a time, flushed: a follower sees each line at once
            for entry in entries:
                _write([entry], sys.stdout, width, as_json, colour)
                sys.stdout.flush()
        else:
            _write(entries, sys.stdout, width, as_json, colour)
    except BrokenPipeError:  # `| head`: the reader is gone, which is fine
        sys.stderr.close()
    except KeyboardInterrupt:
        return
