"""The platform's stack: each served project an app on its own port, routed by host name."""

from __future__ import annotations

from pathlib import Path

from deployflow.api.platform import platform_stack
from deployflow.core.detect.plan import Plan
from deployflow.core.stack import Stack


def _static() -> Plan:
    return Plan(kind="static", start=["python3", "-m", "http.server", "{{ PORT }}"])


def test_projects_become_apps_behind_one_proxy_that_loads() -> None:
    served = [
        ("shop", "uploads/3/src", _static(), 9100),
        ("blog", "uploads/5/src", _static(), 9101),
    ]
    data = platform_stack(served, Path("/srv/api/root"), "apps.example", 8780)
    assert data["paths"] == {"root": "/srv/api/root"}
    assert data["proxy"] == {
        "listen": 8780,
        "hosts": {"shop.apps.example": "shop", "blog.apps.example": "blog"},
    }
    assert data["apps"]["shop"]["url"] == "http://shop.apps.example:8780/"
    assert data["apps"]["blog"]["source"] == "uploads/5/src"
    assert data["vars"]["BLOG_PORT"] == "9101"
    Stack.model_validate(data)


def test_a_project_without_a_web_process_gets_no_route() -> None:
    worker = Plan(kind="python", workers={"worker": ["python", "work.py"]})
    data = platform_stack([("jobs", "uploads/1/src", worker, 9100)], Path("/r"), "localhost", 80)
    assert "proxy" not in data and "url" not in data["apps"]["jobs"]
