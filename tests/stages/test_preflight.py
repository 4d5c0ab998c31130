"""Preflight's checks of tools and ports, on a small stack of its own."""

from __future__ import annotations

from pathlib import Path

from deployflow.backends.services.sockets import ephemeral_range
from deployflow.loading import load_stack
from deployflow.stages.preflight import _port_checks, _tool_checks


def _ctx(tmp_path: Path, port: int):
    (tmp_path / "web").mkdir(parents=True)
    stack = tmp_path / "deployflow.yaml"
    stack.write_text(
        "project: one\npaths: {root: ./root}\n"
        "apps: {web: {source: web, steps: [[sh, -c, 'true']], services: [web]}}\n"
        f"services: {{web: {{command: 'sleep 1', port: {port}}}}}\n"
    )
    return load_stack(stack, tmp_path / "root", environ={})


def test_a_tool_without_version_shows_its_path_not_an_error(tmp_path: Path) -> None:
    [sh] = [c for c in _tool_checks(_ctx(tmp_path, 20999), ["web"]) if c.name == "tool sh"]
    assert sh.ok and sh.detail.endswith("/sh") and "Illegal option" not in sh.detail


def test_a_port_in_the_ephemeral_range_is_said(tmp_path: Path) -> None:
    [check] = _port_checks(_ctx(tmp_path, ephemeral_range()[0] + 7))
    assert check.ok and "ephemeral range" in check.detail  # said, not refused
    [low] = _port_checks(_ctx(tmp_path / "b", 20999))
    assert "ephemeral" not in low.detail
