"""Reading log files without loading them: lines streamed in chunks (a 10 MB line is cut, not
held; invalid UTF-8 replaced), the last N entries read backwards from the end, the first entry
at or after a time found by bisection (logs are written in time order), and regex search over
a memory map split across the CPU cores, returning only the entries that match."""

from __future__ import annotations

import mmap
import os
import re
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime
from multiprocessing import get_context
from pathlib import Path
from typing import BinaryIO

from deployflow.core.logparse import (
    Entry,
    Grouper,
    continues,
    head_entry,
    is_continuation,
    parse_head,
)

__all__ = ["MAX_LINE", "entries", "last_entries", "offset_since", "search"]

MAX_LINE = 64 * 1024  # longer lines are shown cut, with how much was left out
CHUNK = 1 << 20
PARALLEL_FROM = 32 << 20  # files smaller than this are searched in one process


def _cut(raw: bytes, dropped: int = 0) -> str:
    text = raw[:MAX_LINE].decode("utf-8", errors="replace")
    extra = dropped + max(len(raw) - MAX_LINE, 0)
    return f"{text}… [{extra} more bytes]" if extra else text


def _line_start(handle: BinaryIO, start: int) -> int:
    """The first line start at or after `start`."""
    if start <= 0:
        return 0
    handle.seek(start - 1)
    if handle.read(1) == b"\n":
        return start
    pos = start
    while chunk := handle.read(CHUNK):
        nl = chunk.find(b"\n")
        if nl >= 0:
            return pos + nl + 1
        pos += len(chunk)
    return pos


def lines(path: Path, start: int = 0, end: int | None = None) -> Iterator[str]:
    """Each line from the first line start at or after `start` up to `end`."""
    with open(path, "rb") as handle:
        pos = _line_start(handle, start)
        handle.seek(pos)
        buffer = b""
        head: bytes | None = None  # the kept start of an over-long line
        dropped = 0
        while end is None or pos < end:
            chunk = handle.read(CHUNK if end is None else min(CHUNK, end - pos))
            if not chunk:
                break
            pos += len(chunk)
            buffer += chunk
            begin = 0
            while (nl := buffer.find(b"\n", begin)) >= 0:
                if head is not None:
                    yield _cut(head, dropped + nl - begin)
                    head, dropped = None, 0
                else:
                    yield _cut(buffer[begin:nl])
                begin = nl + 1
            buffer = buffer[begin:]
            if head is not None:
                dropped, buffer = dropped + len(buffer), b""
            elif len(buffer) > MAX_LINE:
                head, dropped, buffer = buffer[:MAX_LINE], len(buffer) - MAX_LINE, b""
        if head is not None:
            yield _cut(head, dropped)
        elif buffer:
            yield _cut(buffer)


def entries(path: Path, source: str, start: int = 0, end: int | None = None) -> Iterator[Entry]:
    grouper = Grouper(source)
    for line in lines(path, start, end):
        if done := grouper.feed(line):
            yield done
    if last := grouper.flush():
        yield last


def last_entries(path: Path, source: str, count: int) -> list[Entry]:
    """The last `count` entries, reading backwards from the end in growing windows."""
    size = path.stat().st_size
    window = 64 * 1024
    while True:
        start = max(size - window, 0)
        found = list(entries(path, source, start))
        if len(found) > count or start == 0:
            return found[-count:] if count else []
        window *= 4


def _first_time(handle: BinaryIO, pos: int) -> datetime | None:
    """The time of the first timed entry head after `pos` (within a few lines)."""
    start = _line_start(handle, pos)
    handle.seek(start)
    for raw in handle.read(256 * 1024).split(b"\n")[:64]:
        head = parse_head(raw[:MAX_LINE].decode("utf-8", errors="replace"))
        if head is not None and head.time is not None:
            return head.time
    return None


def offset_since(path: Path, since: datetime) -> int:
    """An offset at or before the first entry at or after `since`: bisection over the file
    (a log is written in time order), so `--since 1h` on a huge file reads a few blocks."""
    lo, hi = 0, path.stat().st_size
    with open(path, "rb") as handle:
        while hi - lo > 256 * 1024:
            mid = (lo + hi) // 2
            when = _first_time(handle, mid)
            if when is not None and when < since:
                lo = mid
            else:
                hi = mid
    return lo


def _matches(path: str, pattern: bytes, flags: int, start: int, end: int) -> list[int]:
    """Line starts in [start, end) whose line matches (run in a worker process)."""
    regex = re.compile(pattern, flags | re.MULTILINE)
    found: list[int] = []
    with open(path, "rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        pos = start
        while pos < end:
            match = regex.search(mm, pos, end)
            if match is None:
                break
            line = mm.rfind(b"\n", 0, match.start()) + 1
            found.append(max(line, start))
            nl = mm.find(b"\n", match.end() if match.end() > match.start() else match.start())
            pos = end if nl < 0 else nl + 1
    return found


def _ranges(path: Path, start: int, end: int, parts: int) -> list[tuple[int, int]]:
    if parts <= 1 or end - start < PARALLEL_FROM:
        return [(start, end)]
    cuts = [start]
    with open(path, "rb") as handle:
        for i in range(1, parts):
            cuts.append(max(_line_start(handle, start + (end - start) * i // parts), cuts[-1]))
    return list(zip(cuts, [*cuts[1:], end], strict=True))


def _previous(mm: mmap.mmap, pos: int) -> int:
    return mm.rfind(b"\n", 0, pos - 1) + 1


def _next(mm: mmap.mmap, pos: int) -> int:
    nl = mm.find(b"\n", pos)
    return len(mm) if nl < 0 else nl + 1


def _is_head(mm: mmap.mmap, pos: int, line: str) -> bool:
    """Whether the line at `pos` begins an entry (rather than continuing the one above)."""
    if pos == 0:
        return True
    if is_continuation(line):
        return False
    before = _previous(mm, pos)
    if mm[before : before + 1] not in (b" ", b"\t"):
        return True
    return parse_head(line) is not None  # else "ValueError: boom" closing an indented trace


def _following(mm: mmap.mmap, head: int, line: str) -> tuple[list[str], int]:
    """The entry's lines from its head line on, and the offset after them: read in one block
    (an entry is usually a line or a short trace), line by line past it."""
    lines, end = [line], _next(mm, head)
    in_traceback = line.startswith("Traceback (most recent call")
    block = mm[end : end + 512]
    parts = block.split(b"\n")
    if end + len(block) < len(mm):
        parts.pop()  # an incomplete last line: read whole below if the entry gets that far
    for raw in parts:
        if end >= len(mm):
            return lines, end
        following = _cut(raw)
        more, in_traceback = continues(following, in_traceback)
        if not more:
            return lines, end
        lines.append(following)
        end += len(raw) + 1
    while end < len(mm):
        following = _line(mm, end)
        more, in_traceback = continues(following, in_traceback)
        if not more:
            break
        lines.append(following)
        end = _next(mm, end)
    return lines, min(end, len(mm))


def _entry_at(mm: mmap.mmap, offset: int, source: str, parse: bool) -> tuple[int, Entry]:
    """The whole entry holding the line at `offset` (back to its head, on over its trace) and
    the offset where it ends. Without `parse`, the entry is returned unparsed (no time, level
    info) for output that shows the text only."""
    head, line = offset, _line(mm, offset)
    for _ in range(1000):
        if _is_head(mm, head, line):
            break
        head = _previous(mm, head)
        line = _line(mm, head)
    lines, end = _following(mm, head, line)
    entry = head_entry(source, line) if parse else Entry(source, None, "info", "raw", [])
    entry.lines = lines
    return end, entry


def _line(mm: mmap.mmap, pos: int) -> str:
    nl = mm.find(b"\n", pos, pos + MAX_LINE + 1)
    if nl >= 0:
        return _cut(mm[pos:nl])
    full = mm.find(b"\n", pos)
    return _cut(mm[pos : pos + MAX_LINE], (len(mm) if full < 0 else full) - pos - MAX_LINE)


def search(
    path: Path,
    regex: re.Pattern[str],
    source: str,
    start: int = 0,
    end: int | None = None,
    parse: bool = True,
) -> Iterator[Entry]:
    """Entries with a line matching `regex`, in file order: the file is searched through a
    memory map (one process per core above PARALLEL_FROM bytes), only matches are parsed (and
    with `parse` False, only those that span lines)."""
    size = path.stat().st_size
    if size == 0:
        return
    stop = size if end is None else min(end, size)
    pattern = regex.pattern.encode()
    flags = regex.flags & re.IGNORECASE
    ranges = _ranges(path, start, stop, os.cpu_count() or 1)
    if len(ranges) == 1:
        offsets = _matches(str(path), pattern, flags, *ranges[0])
    else:
        with ProcessPoolExecutor(len(ranges), mp_context=get_context("fork")) as pool:
            jobs = [pool.submit(_matches, str(path), pattern, flags, s, e) for s, e in ranges]
            offsets = [o for job in jobs for o in job.result()]
    seen = -1
    with open(path, "rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        for offset in offsets:
            if offset < seen:
                continue  # a line inside the entry just shown
            seen, entry = _entry_at(mm, offset, source, parse)
            yield entry
