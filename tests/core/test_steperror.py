"""A failed step is quoted by the lines that carry its error."""

from __future__ import annotations

from deployflow.core.steperror import error_lines


def test_sqlalchemy_background_line_is_not_the_error() -> None:
    tail = [
        "INFO  [alembic.runtime.migration] Running upgrade -> 3a1f, add items",
        'sqlalchemy.exc.ProgrammingError: (psycopg.errors.UndefinedTable) relation "users"'
        " does not exist",
        "LINE 1: SELECT id FROM users",
        "                       ^",
        "[SQL: SELECT id FROM users]",
        "(Background on this error at: https://sqlalche.me/e/20/f405)",
    ]
    assert error_lines(tail).startswith("sqlalchemy.exc.ProgrammingError: (psycopg.errors.Undef")


def test_a_python_traceback_ends_in_its_exception() -> None:
    tail = [
        "Traceback (most recent call last):",
        '  File "manage.py", line 3, in <module>',
        "    main()",
        "ModuleNotFoundError: No module named 'django'",
    ]
    assert error_lines(tail) == "ModuleNotFoundError: No module named 'django'"


def test_three_lines_at_most_in_order() -> None:
    tail = ["npm ERR! code ELIFECYCLE", "npm ERR! x", "npm ERR! errno 1", "npm ERR! Exit status 1"]
    assert error_lines(tail) == "npm ERR! x / npm ERR! errno 1 / npm ERR! Exit status 1"


def test_an_installer_whose_advice_follows_the_error() -> None:
    """A database installer's failure: the cause, then twenty lines of advice and links; the
    cause is quoted, not the last link."""
    tail = [
        "Installing system tables in '/srv/db/data' ...",
        "ERROR: 1051  Unknown table 'mysql.tmp_user_sys'",
        "[ERROR] Aborting",
        "",
        "Installation of system tables failed!  Examine the logs in /srv/db/data.",
        *[f"advice line {n}: see the manual" for n in range(20)],
        "the discussion list is at https://lists.example.org/",
    ]
    said = error_lines(tail)
    assert said.startswith("ERROR: 1051  Unknown table 'mysql.tmp_user_sys'"), said


def test_without_an_error_line_the_last_line_and_without_output_says_so() -> None:
    assert error_lines(["building", "done 3 files", "  "]) == "done 3 files"
    assert error_lines([]) == "no output"
