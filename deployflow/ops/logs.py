"""`deployflow logs`: which files (and journald / docker streams) hold a service's or an app's
logs, read with filters (time range, level, regex) and merged by time across sources, or
followed live."""

from __future__ import annotations

import heapq
import os
import queue
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from deployflow.backends import logread
from deployflow.backends.dockerd import engine_url
from deployflow.backends.executor import Command, run
from deployflow.backends.logfollow import FileFollower
from deployflow.core.context import StackContext
from deployflow.core.logparse import Entry, Grouper, level_at_least
from deployflow.core.servicespec import service_spec
from deployflow.errors import CommandError, UsageError

__all__ = [
    "FOLLOW_POLL",
    "LogQuery",
    "LogSource",
    "follow_logs",
    "log_sources",
    "masked",
    "read_logs",
]

FOLLOW_POLL = 0.02  # seconds between looks at followed files: a new line shows within ~2 polls
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class LogSource:
    name: str  # the service or app it belongs to (the service column)
    path: Path | None = None
    command: tuple[str, ...] = ()  # journalctl / docker logs, for services run by those


@dataclass(frozen=True)
class LogQuery:
    since: datetime | None = None
    until: datetime | None = None
    level: str | None = None  # the least level shown
    search: re.Pattern[str] | None = None
    lines: int | None = None  # the last N entries (None: all that match)
    parse: bool = True  # False: the reader shows text only (no level colour, no JSON)

    def keeps(self, entry: Entry) -> bool:
        if self.level and not level_at_least(entry.level, self.level):
            return False
        if entry.time is not None:
            if self.since and entry.time < self.since:
                return False
            if self.until and entry.time > self.until:
                return False
        return self.search is None or any(self.search.search(line) for line in entry.lines)


def _service_sources(ctx: StackContext, name: str) -> list[LogSource]:
    spec = service_spec(ctx, name)
    svc = ctx.stack.services[name]
    found = [LogSource(name, Path(p)) for p in _globs(ctx, svc.logs, None, f"services.{name}")]
    if spec.backend == "systemd":
        found.append(LogSource(name, command=("journalctl", "-u", spec.unit, "-o", "short-iso")))
    elif spec.backend == "docker":  # the engine deployflow runs (or DOCKER_HOST's)
        argv = ("docker", "--host", engine_url(), "logs", "--timestamps", spec.unit)
        found.append(LogSource(name, command=argv))
    elif spec.log_file is not None:
        found.insert(0, LogSource(name, spec.log_file))
    return found


def _globs(ctx: StackContext, patterns: list[str], base: Path | None, where: str) -> list[Path]:
    paths: list[Path] = []
    for i, pattern in enumerate(patterns):
        rendered = ctx.render(pattern, f"{where}.logs[{i}]")
        if base is None:
            hits = sorted(Path("/").glob(rendered.lstrip("/"))) if "*" in rendered else []
            paths.extend(hits or [Path(rendered)])
        else:
            paths.extend(sorted(base.glob(rendered)))
    return paths


def log_sources(ctx: StackContext, which: str) -> list[LogSource]:
    """`all`, a service (its output file or journal/docker stream, and files it declares), or
    an app (its services' and the files it declares in its live dir)."""
    stack = ctx.stack
    if which == "all":
        names = [*stack.services, *(a for a in stack.apps if stack.apps[a].logs)]
    elif which in stack.services or which in stack.apps:
        names = [which]
    else:
        known = ", ".join([*stack.services, *stack.apps])
        raise UsageError(f"unknown service or app {which!r}; the stack has: {known}")
    sources: list[LogSource] = []
    for name in names:
        if name in stack.services:
            sources += _service_sources(ctx, name)
        if name in stack.apps:
            app = stack.apps[name]
            if which != "all":
                for svc in app.services:
                    sources += _service_sources(ctx, svc)
            live = ctx.layout.current / name
            sources += [LogSource(name, p) for p in _globs(ctx, app.logs, live, f"apps.{name}")]
    # an app and a service of one name (or a file both declare): each source is read once
    seen: set[tuple[Path | None, tuple[str, ...]]] = set()
    unique = []
    for source in sources:
        key = (source.path.resolve() if source.path else None, source.command)
        if key not in seen:
            seen.add(key)
            unique.append(source)
    return unique


def _refuse_unreadable(path: Path) -> None:
    """A source that exists but cannot be read as a file is a usage error (a missing one is
    not: the service has not written yet)."""
    if path.exists() and (not path.is_file() or not os.access(path, os.R_OK)):
        raise UsageError(f"cannot read {path}: check its permissions")


def _check_readable(sources: list[LogSource]) -> list[LogSource]:
    """The sources there are to read now."""
    for source in sources:
        if source.path is not None:
            _refuse_unreadable(source.path)
    return [s for s in sources if s.path is None or s.path.exists()]


def _command_entries(source: LogSource, query: LogQuery, parse: bool) -> Iterator[Entry]:
    argv = list(source.command)
    if query.since:
        argv += ["--since", query.since.isoformat()]
    grouper = Grouper(source.name)
    found: list[Entry] = []

    def line(text: str) -> None:
        if done := grouper.feed(text.rstrip("\n")):
            found.append(done)

    try:
        run(Command.of(argv, timeout=120), on_line=line)
    except CommandError as exc:
        raise UsageError(f"logs of {source.name}: {exc}") from None
    if last := grouper.flush():
        found.append(last)
    yield from found


def _file_entries(source: LogSource, query: LogQuery, parse: bool) -> Iterator[Entry]:
    path = source.path
    assert path is not None
    if query.since and datetime.fromtimestamp(path.stat().st_mtime, UTC) < query.since:
        return  # nothing written since: no entry can be that new
    start = logread.offset_since(path, query.since) if query.since else 0
    if query.search is not None:
        yield from logread.search(path, query.search, source.name, start, parse=parse)
    elif query.lines and not (query.since or query.until or query.level):
        yield from logread.last_entries(path, source.name, query.lines)
    else:
        yield from logread.entries(path, source.name, start)


def read_logs(sources: list[LogSource], query: LogQuery) -> Iterator[Entry]:
    """Matching entries of every source, merged by time (each source is in time order)."""
    readable = _check_readable(sources)
    # times and levels are needed to merge, to filter by them and to show them
    parse = query.parse or len(readable) > 1 or any((query.since, query.until, query.level))
    streams = []
    for source in readable:
        if source.path is not None:
            # a searched file's entries matched already: the search is not repeated
            keep = replace(query, search=None) if query.search else query
            found = _file_entries(source, query, parse)
        else:
            keep, found = query, _command_entries(source, query, parse)
        streams.append(e for e in found if keep.keeps(e))
    merged = (
        heapq.merge(*streams, key=lambda e: e.time or _EPOCH)
        if len(streams) > 1
        else (streams[0] if streams else iter(()))
    )
    if query.lines:
        yield from deque(merged, maxlen=query.lines)
    else:
        yield from merged


def masked(entries: Iterable[Entry], redact: Callable[[str], str]) -> Iterator[Entry]:
    """Entries with every known secret value masked: what a service wrote may hold one."""
    for entry in entries:
        yield replace(entry, lines=[redact(line) for line in entry.lines])


def _command_follower(source: LogSource, out: queue.Queue[Entry], stop: threading.Event) -> None:
    grouper = Grouper(source.name)

    def line(text: str) -> None:
        if stop.is_set():
            raise KeyboardInterrupt  # ends the command (its process group is killed)
        if done := grouper.feed(text.rstrip("\n")):
            out.put(done)

    try:
        run(Command.of([*source.command, "-f"], timeout=None), on_line=line, check=False)
    except (CommandError, KeyboardInterrupt):
        return


def follow_logs(
    sources: list[LogSource], query: LogQuery, stop: threading.Event | None = None
) -> Iterator[Entry]:
    """Entries as they are written (after the last `query.lines` of each), until `stop`."""
    stop = stop or threading.Event()
    for source in sources:
        if source.path is not None:
            _refuse_unreadable(source.path)
    files = [  # opened first: a line written while the tail is read is not lost
        FileFollower(s.path, s.name) for s in sources if s.path is not None
    ]
    if query.lines:
        yield from read_logs(sources, query)
    streamed: queue.Queue[Entry] = queue.Queue()
    for source in (s for s in sources if s.path is None):
        threading.Thread(
            target=_command_follower, args=(source, streamed, stop), daemon=True
        ).start()
    try:
        while not stop.is_set():
            for follower in files:
                yield from (e for e in follower.poll() if query.keeps(e))
            while not streamed.empty():
                entry = streamed.get_nowait()
                if query.keeps(entry):
                    yield entry
            time.sleep(FOLLOW_POLL)
    finally:
        for follower in files:
            follower.close()
