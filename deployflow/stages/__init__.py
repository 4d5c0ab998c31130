"""Deploy stages as plain functions (I/O through backends); Prefect tasks wrap them."""

from collections.abc import Callable

Log = Callable[[str], None]

__all__ = ["Log"]
