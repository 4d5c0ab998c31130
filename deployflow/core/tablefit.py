"""Which columns of a table fit a terminal: the last column (free text) wraps, the others
never do; when they do not fit, the least needed go first, in the order given. Pure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

__all__ = ["fit_columns"]

FREE_TEXT_MIN = 16  # the wrapping column keeps at least this much room


def _natural(column: str, rows: Sequence[Mapping[str, str]]) -> int:
    return max([len(column), *(len(row.get(column, "")) for row in rows)])


def fit_columns(
    columns: Sequence[str],
    rows: Sequence[Mapping[str, str]],
    width: int,
    drop_order: Sequence[str],
) -> list[str]:
    """The columns to show at `width`: all when they fit (each padded by 3 for borders), else
    without the first of `drop_order`, then the next... The last column always stays."""
    kept = list(columns)

    def needed() -> int:
        fixed = sum(_natural(c, rows) for c in kept[:-1])
        return fixed + FREE_TEXT_MIN + 3 * len(kept) + 1

    for column in drop_order:
        if needed() <= width:
            break
        if column in kept[:-1]:
            kept.remove(column)
    return kept
