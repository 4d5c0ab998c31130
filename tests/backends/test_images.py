"""What a Dockerfile's FROM lines need from the engine (stages and scratch need nothing)."""

from __future__ import annotations

from deployflow.backends.images import from_images


def test_from_images() -> None:
    text = (
        "FROM --platform=linux/amd64 deployflow/debian:bookworm AS build\n"
        "RUN make\n"
        "FROM build AS test\n"
        "from scratch\n"
        "FROM shop/base:2\n"
    )
    assert from_images(text) == ["deployflow/debian:bookworm", "shop/base:2"]
