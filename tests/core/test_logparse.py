"""Every parser against sample lines (stack traces included), level normalisation, grouping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from deployflow.core.logparse import Grouper, level_at_least, normal_level, parse_head


def _utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def _local(*args: int) -> datetime:
    return datetime(*args).astimezone()


@pytest.mark.parametrize(
    ("line", "time", "level", "kind"),
    [
        (
            "[2026-11-25 10:00:01] production.ERROR: Division by zero",
            _local(2026, 11, 25, 10, 0, 1),
            "error",
            "laravel",
        ),
        (
            "[2026-11-25T10:00:01.123456+00:00] local.WARNING: slow query",
            _utc(2026, 11, 25, 10, 0, 1, 123456),
            "warning",
            "laravel",
        ),
        (
            '{"message":"Job failed","context":{},"level":400,"level_name":"ERROR",'
            '"channel":"production","datetime":"2026-11-25T10:00:02.000000+00:00","extra":{}}',
            _utc(2026, 11, 25, 10, 0, 2),
            "error",
            "json",
        ),
        (
            '10.0.0.7 - - [25/Nov/2026:10:00:03 +0000] "GET /api/x HTTP/1.1" 502 157 "-" "curl/8"',
            _utc(2026, 11, 25, 10, 0, 3),
            "error",
            "nginx-access",
        ),
        (
            '10.0.0.7 - - [25/Nov/2026:10:00:03 +0100] "GET /missing HTTP/1.1" 404 0 "-" "-"',
            datetime(2026, 11, 25, 10, 0, 3, tzinfo=timezone(timedelta(hours=1))),
            "warning",
            "nginx-access",
        ),
        (
            '127.0.0.1 - - [25/Nov/2026 10:00:04] "GET / HTTP/1.1" 200 -',
            _local(2026, 11, 25, 10, 0, 4),
            "info",
            "access",
        ),
        (
            "2026/11/25 10:00:05 [crit] 12#12: *3 connect() failed (111: Connection refused)",
            _local(2026, 11, 25, 10, 0, 5),
            "critical",
            "nginx-error",
        ),
        (
            "2026/11/25 10:00:05 [warn] 12#12: an upstream response is buffered",
            _local(2026, 11, 25, 10, 0, 5),
            "warning",
            "nginx-error",
        ),
        (
            "2026-11-25 10:00:06,789 ERROR app.orders: payment failed",
            _local(2026, 11, 25, 10, 0, 6, 789000),
            "error",
            "stamped",
        ),
        (
            "2026-11-25 10:00:06,789 - app - WARNING - retrying",
            _local(2026, 11, 25, 10, 0, 6, 789000),
            "warning",
            "stamped",
        ),
        (
            "[2026-11-25 10:00:07 +0000] [42] [INFO] Booting worker with pid: 42",
            _utc(2026, 11, 25, 10, 0, 7),
            "info",
            "gunicorn",
        ),
        (
            "2026-11-25T10:00:08.123456789Z relay listening",
            _utc(2026, 11, 25, 10, 0, 8, 123456),
            "info",
            "stamped",
        ),
        (
            "2026-11-25  1:00:08 0 [Note] InnoDB: Buffer pool(s) load completed",
            _local(2026, 11, 25, 1, 0, 8),
            "info",
            "stamped",
        ),
        (
            "2026-11-25 10:00:08 0 [Warning] Aborted connection 5 to db",
            _local(2026, 11, 25, 10, 0, 8),
            "warning",
            "stamped",
        ),
        ('INFO:     127.0.0.1:5000 - "GET /api/health HTTP/1.1" 200 OK', None, "info", "python"),
        ("ERROR:    Exception in ASGI application", None, "error", "python"),
        ("WARNING:root:disk is filling up", None, "warning", "python"),
        (
            "--- deployflow: starting backend-api at 2026-11-25T10:00:09+00:00",
            _utc(2026, 11, 25, 10, 0, 9),
            "info",
            "deployflow",
        ),
    ],
)
def test_heads(line: str, time: datetime | None, level: str, kind: str) -> None:
    head = parse_head(line)
    assert head is not None, line
    assert (head.time, head.level, head.kind) == (time, level, kind)


def test_syslog_and_unformatted_lines() -> None:
    head = parse_head("Nov 25 10:00:10 web1 nginx[12]: error opening file")
    assert head is not None and head.kind == "syslog" and head.level == "error"
    assert head.time is not None and (head.time.month, head.time.second) == (11, 10)
    assert parse_head("relay listening on 8080") is None
    assert parse_head("  File 'app.py', line 3") is None
    assert parse_head("{not json") is None and parse_head("[1, 2]") is None


def test_levels() -> None:
    assert [normal_level(w) for w in ("WARN", "notice", "emerg", "err", "bogus")] == [
        "warning",
        "info",
        "critical",
        "error",
        None,
    ]
    assert level_at_least("error", "warning") and not level_at_least("info", "warning")


def _group(lines: list[str]) -> list:
    grouper = Grouper("backend")
    entries = [e for line in lines if (e := grouper.feed(line))]
    last = grouper.flush()
    return [*entries, last] if last else entries


def test_python_traceback_stays_with_its_entry() -> None:
    entries = _group(
        [
            "ERROR:    Exception in ASGI application",
            "Traceback (most recent call last):",
            '  File "/app/app.py", line 10, in handler',
            "    1 / 0",
            "ZeroDivisionError: division by zero",
            "",
            "During handling of the above exception, another exception occurred:",
            "",
            "Traceback (most recent call last):",
            '  File "/app/app.py", line 12, in handler',
            "RuntimeError: boom",
            'INFO:     127.0.0.1:5000 - "GET / HTTP/1.1" 200 OK',
        ]
    )
    assert [e.level for e in entries] == ["error", "info"]
    assert entries[0].lines[-1] == "RuntimeError: boom" and len(entries[0].lines) == 11


def test_laravel_stack_trace_and_time_inheritance() -> None:
    entries = _group(
        [
            "[2026-11-25 10:00:01] production.ERROR: Division by zero "
            '{"exception":"[object] (DivisionByZeroError(code: 0): Division by zero at /a.php:3)',
            "[stacktrace]",
            "#0 /app/vendor/laravel/framework/src/Kernel.php(12): handle()",
            "#1 {main}",
            '"} ',
            "plain line from a print()",
            "[2026-11-25 10:00:02] production.INFO: next",
        ]
    )
    assert [(e.level, len(e.lines)) for e in entries] == [("error", 5), ("info", 1), ("info", 1)]
    assert entries[1].kind == "plain" and entries[1].time == entries[0].time
    assert entries[0].text.endswith('{main}\n"} ')  # the trace's lines, as written
