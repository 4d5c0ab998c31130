"""Secrets kept on the Prefect server as `Secret` blocks: read when the stack asks for one that
the environment and the root's secrets file lack, written by `deployflow secrets set`."""

from __future__ import annotations

from deployflow.errors import StackError

__all__ = ["read_secret_block", "register_block_types", "write_secret_block"]


def _api() -> None:
    from deployflow.backends.prefect_server import ensure_api

    ensure_api()


def read_secret_block(name: str) -> str | None:
    """The block's value, or None when no such block exists."""
    _api()
    from prefect.blocks.system import Secret

    try:
        return str(Secret.load(name).get())
    except ValueError:  # Prefect: "Unable to find block document named ..."
        return None
    except Exception as exc:
        raise StackError(
            f"cannot read the Prefect Secret block {name!r}: {type(exc).__name__}"
        ) from None


def write_secret_block(name: str, value: str) -> None:
    _api()
    from prefect.blocks.system import Secret

    Secret(value=value).save(name, overwrite=True)


def register_block_types() -> list[str]:
    """Register the block types deployflow uses (secrets, notification webhooks) on the server,
    so they show in the UI's block catalogue."""
    _api()
    from prefect.blocks.notifications import CustomWebhookNotificationBlock, SlackWebhook
    from prefect.blocks.system import Secret

    registered = []
    for kind in (Secret, CustomWebhookNotificationBlock, SlackWebhook):
        kind.register_type_and_schema()
        registered.append(kind.get_block_type_slug())
    return registered
