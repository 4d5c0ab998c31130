"""Log lines into entries: what a first line says (time, level, message) for Laravel (text and
JSON lines), nginx access and error logs, Python logging / uvicorn / gunicorn lines, syslog and
journal lines and generic timestamped lines; a stack trace stays with the entry it follows.
Levels are normalised to debug < info < warning < error < critical (an HTTP 5xx is an error).
Pure functions and one streaming grouper; times are timezone-aware (naive ones are local)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

__all__ = [
    "LEVELS",
    "Entry",
    "Grouper",
    "Head",
    "continues",
    "head_entry",
    "is_continuation",
    "level_at_least",
    "normal_level",
    "parse_head",
]

LEVELS = ("debug", "info", "warning", "error", "critical")
_RANK = {name: i for i, name in enumerate(LEVELS)}
_ALIASES = {
    "trace": "debug",
    "debug": "debug",
    "info": "info",
    "note": "info",
    "notice": "info",
    "warn": "warning",
    "warning": "warning",
    "err": "error",
    "error": "error",
    "severe": "error",
    "crit": "critical",
    "critical": "critical",
    "alert": "critical",
    "emerg": "critical",
    "emergency": "critical",
    "fatal": "critical",
}


def normal_level(word: str) -> str | None:
    return _ALIASES.get(word.strip().lower())


def level_at_least(level: str, minimum: str) -> bool:
    return _RANK[level] >= _RANK[minimum]


@dataclass(frozen=True)
class Head:
    """What the first line of an entry says."""

    time: datetime | None
    level: str
    message: str
    kind: str


@dataclass
class Entry:
    source: str
    time: datetime | None
    level: str
    kind: str
    lines: list[str] = field(default_factory=list)  # the first line, then any continuation

    @property
    def text(self) -> str:
        lines = list(self.lines)
        while len(lines) > 1 and not lines[-1].strip():
            lines.pop()
        return "\n".join(lines)


_ISO = r"\d{4}-\d{2}-\d{2}(?:T| {1,2})\d{1,2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?"
_LARAVEL = re.compile(rf"^\[({_ISO})\] [\w.-]+\.([A-Za-z]+): (.*)")
_GUNICORN = re.compile(
    r"^\[(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(?: [+-]\d{4})?)\] \[\d+\] \[([A-Za-z]+)\] (.*)"
)
_ACCESS = re.compile(r'^(\S+) \S+ \S+ \[([^\]]+)\] "([^"]*)" (\d{3}) (\S+)(.*)')
_NGINX_ERROR = re.compile(r"^(\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2}) \[([a-z]+)\] (.*)")
_STAMPED = re.compile(rf"^\[?({_ISO})\]?[\s:|-]*(.*)")
_BASIC = re.compile(r"^(DEBUG|INFO|WARNING|ERROR|CRITICAL):(?:\s+|[\w.]+:)(.*)")
_MARKER = re.compile(r"^--- deployflow: (.* at (\S+))$")
_SYSLOG = re.compile(r"^([A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2}) (.*)")
_LEVEL_WORD = re.compile(
    r"\b(DEBUG|INFO|NOTICE|WARN(?:ING)?|ERROR|ERR|CRIT(?:ICAL)?|FATAL|ALERT|EMERG)\b"
    r"|\[((?i:debug|info|note|notice|warn(?:ing)?|error|crit(?:ical)?|alert|emerg))\]"
    r"|\b((?i:error|warning|critical|fatal))\b"
)
_CONTINUATION = re.compile(
    r"^(?:\s|\[stacktrace\]|\[previous exception\]|#\d+ |\"\}|Traceback \(most recent call"
    r"|During handling of the above|The above exception was|Stack trace:|Caused by)"
)
_JSON_TIME = ("datetime", "time", "timestamp", "@timestamp", "asctime", "ts")
_JSON_LEVEL = ("level_name", "level", "levelname", "severity")
_JSON_MESSAGE = ("message", "msg", "event")


def _local(dt: datetime) -> datetime:
    return dt if dt.tzinfo else dt.astimezone()  # a naive time is the host's local time


def _iso(text: str) -> datetime | None:
    text = re.sub(r"^(\d{4}-\d{2}-\d{2}) {1,2}(\d):", r"\1 0\2:", text).replace(",", ".")
    match = re.match(r"^(.*?\.\d{1,6})\d*(.*)$", text)  # at most microseconds
    if match:
        text = match.group(1) + match.group(2)
    if re.search(r"[+-]\d{4}$", text):
        text = f"{text[:-2]}:{text[-2:]}"
    try:
        return _local(datetime.fromisoformat(text.replace("Z", "+00:00")))
    except ValueError:
        return None


def _strptime(text: str, fmt: str) -> datetime | None:
    try:
        return _local(datetime.strptime(text, fmt))
    except ValueError:
        return None


def _word_level(text: str) -> str | None:
    match = _LEVEL_WORD.search(text[:80])
    return normal_level(next(g for g in match.groups() if g)) if match else None


def _json_head(line: str) -> Head | None:
    try:
        data = json.loads(line)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    stamp = next((data[k] for k in _JSON_TIME if isinstance(data.get(k), str)), None)
    level = next((data[k] for k in _JSON_LEVEL if isinstance(data.get(k), str)), "info")
    message = next((data[k] for k in _JSON_MESSAGE if isinstance(data.get(k), str)), line)
    return Head(_iso(stamp) if stamp else None, normal_level(level) or "info", message, "json")


def _access_level(status: int) -> str:
    return "error" if status >= 500 else "warning" if status >= 400 else "info"


def _bracketed(line: str) -> Head | None:
    if m := _LARAVEL.match(line):
        return Head(_iso(m.group(1)), normal_level(m.group(2)) or "info", m.group(3), "laravel")
    if m := _GUNICORN.match(line):
        stamp = m.group(1)
        zoned = len(stamp) > 19
        time = _strptime(stamp, "%Y-%m-%d %H:%M:%S %z" if zoned else "%Y-%m-%d %H:%M:%S")
        return Head(time, normal_level(m.group(2)) or "info", m.group(3), "gunicorn")
    return None


def _access(line: str) -> Head | None:
    m = _ACCESS.match(line)
    if not m:
        return None
    stamp = m.group(2)
    time = _strptime(stamp, "%d/%b/%Y:%H:%M:%S %z") or _strptime(stamp, "%d/%b/%Y %H:%M:%S")
    if time is None:
        return None
    kind = "nginx-access" if ":" in stamp[:12] else "access"
    return Head(time, _access_level(int(m.group(4))), line, kind)


def parse_head(line: str) -> Head | None:
    """The head of an entry this line starts, or None (a continuation or an unformatted line)."""
    if not line or line[0].isspace():
        return None
    first = line[0]
    if first == "{":
        return _json_head(line)
    if first == "[" and (head := _bracketed(line)):
        return head
    if first.isdigit() or first == "[":
        if m := _NGINX_ERROR.match(line):
            time = _strptime(m.group(1), "%Y/%m/%d %H:%M:%S")
            return Head(time, normal_level(m.group(2)) or "info", m.group(3), "nginx-error")
        if m := _STAMPED.match(line):
            time = _iso(m.group(1))
            if time is not None:
                return Head(time, _word_level(m.group(2)) or "info", m.group(2), "stamped")
    if head := _access(line):
        return head
    if m := _BASIC.match(line):
        return Head(None, normal_level(m.group(1)) or "info", m.group(2).strip(), "python")
    if m := _MARKER.match(line):
        return Head(_iso(m.group(2)), "info", m.group(1), "deployflow")
    if m := _SYSLOG.match(line):
        time = _strptime(f"{datetime.now(UTC).year} {m.group(1)}", "%Y %b %d %H:%M:%S")
        return Head(time, _word_level(m.group(2)) or "info", m.group(2), "syslog")
    return None


def is_continuation(line: str) -> bool:
    return not line or bool(_CONTINUATION.match(line))


_TRACEBACK = "Traceback (most recent call"


def continues(line: str, in_traceback: bool) -> tuple[bool, bool]:
    """(whether `line` continues the entry before it, whether a Python traceback is still
    open after it): the exception line that closes a traceback ("ValueError: boom") belongs
    to the entry though it is not indented."""
    if line.startswith(_TRACEBACK):
        return True, True
    if in_traceback and line and not line[0].isspace():
        return True, False
    return is_continuation(line), in_traceback


def head_entry(source: str, line: str, inherited: datetime | None = None) -> Entry:
    """An entry starting with `line` (an unformatted line is an entry of its own)."""
    head = parse_head(line) or Head(None, _word_level(line) or "info", line, "plain")
    return Entry(source, head.time or inherited, head.level, head.kind, [line])


class Grouper:
    """Lines in, entries out: `feed` returns the entry a new head line completes, `flush` the
    last one. An entry without a time of its own takes the previous entry's (for merging)."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.pending: Entry | None = None
        self.last_time: datetime | None = None
        self.in_traceback = False

    def feed(self, line: str) -> Entry | None:
        if self.pending is not None:
            more, self.in_traceback = continues(line, self.in_traceback)
            if more:
                self.pending.lines.append(line)
                return None
        entry = head_entry(self.source, line, self.last_time)
        self.last_time = entry.time
        done, self.pending = self.pending, entry
        self.in_traceback = line.startswith(_TRACEBACK)
        return done

    def flush(self) -> Entry | None:
        done, self.pending = self.pending, None
        return done
