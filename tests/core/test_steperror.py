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


def test_two_lines_at_most_in_order() -> None:
    tail = ["npm ERR! code ELIFECYCLE", "npm ERR! errno 1", "npm ERR! Exit status 1", ""]
    assert error_lines(tail) == "npm ERR! errno 1 / npm ERR! Exit status 1"


def test_without_an_error_line_the_last_line_and_without_output_says_so() -> None:
    assert error_lines(["building", "done 3 files", "  "]) == "done 3 files"
    assert error_lines([]) == "no output"
