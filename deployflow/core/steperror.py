"""What a failed step's message quotes from its output: the lines that carry the error (an
exception, an `error:` line), not whatever came last ("Background on this error at: ...",
a blank line, a caret under a column)."""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = ["error_lines"]

CARRIES = re.compile(
    r"error|\berr\b|exception|fatal|failed|failure|traceback|denied|not found|no such|cannot|"
    r"refused|undefined|invalid|abort|panic|segmentation",
    re.IGNORECASE,
)
NOISE = re.compile(
    r"^\(?background on this error at|^for more information|^traceback \(most recent call"
    r"|^file \"|^during handling of the above exception|^the above exception was|^[\^~\s]*$",
    re.IGNORECASE,
)


def error_lines(tail: Sequence[str], limit: int = 3) -> str:
    """The last `limit` lines of `tail` that carry the error, in order, as one line; the last
    line when none does; "no output" for none."""
    lines = [line.strip() for line in tail if line.strip()]
    if not lines:
        return "no output"
    carrying = [line for line in lines if CARRIES.search(line) and not NOISE.search(line)]
    return " / ".join(carrying[-limit:]) if carrying else lines[-1]
