"""Tell the Prefect API how runs ended that ended while it was down: each run still shown as
running gets its recorded outcome; a run the API already shows as final is left as it is."""

from __future__ import annotations

from deployflow.backends.prefect_rest import FINAL, ApiUnreachable, PrefectRest
from deployflow.backends.runmarks import drop_mark, pending_marks
from deployflow.errors import DeployflowError

__all__ = ["flush_marks"]


def flush_marks(url: str) -> list[str]:
    """The runs marked now; stops at the first call the API does not answer (kept for later)."""
    marks = pending_marks()
    if not marks:
        return []
    rest, marked = PrefectRest(url), []
    try:
        for mark in marks:
            try:
                state = _state_of(rest, mark["run"])
                if state is not None and state not in FINAL:
                    rest.mark(mark["run"], mark["state"], mark["message"])
                    marked.append(mark["run"])
            except ApiUnreachable:
                return marked  # the API went away again: the rest waits for the next time
            drop_mark(mark["run"])
    finally:
        rest.close()
    return marked


def _state_of(rest: PrefectRest, run_id: str) -> str | None:
    """The run's state type; None when this server does not know it (a new database)."""
    try:
        return (rest.run(run_id).get("state") or {}).get("type")
    except ApiUnreachable:
        raise
    except DeployflowError:
        return None
