"""The base of every stack-file model: unknown keys refused, values frozen."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["_Model"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
