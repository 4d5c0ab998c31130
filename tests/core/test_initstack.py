"""The stack `deployflow init` writes: valid, each app on its own port var, Procfile workers as
services, a SQLite file declared as a database, and readable YAML."""

from __future__ import annotations

import yaml

from deployflow.core.detect.plan import Plan
from deployflow.core.initstack import app_name, stack_data, stack_text
from deployflow.core.stack import Stack


def test_plans_become_a_valid_readable_stack() -> None:
    web = Plan(kind="python", start=["gunicorn", "-b", "127.0.0.1:{{ PORT }}", "app:app"])
    web.workers = {"worker": ["python", "jobs.py"]}
    web.sqlite, web.shared = "instance/app.sqlite", ["instance/"]
    site = Plan(kind="static", start=["python", "-m", "http.server", "{{ PORT }}"])
    names: set[str] = set()
    first = app_name(".", web, names)
    names.add(first)
    second = app_name("../My Site", site, names)
    data = stack_data("shop", [(first, ".", web, 8000), (second, "../My Site", site, 8001)])
    stack = Stack.model_validate(data)
    assert (first, second) == ("web", "my-site") and stack.vars["MY_SITE_PORT"] == "8001"
    assert stack.services["web"].command == "gunicorn -b '127.0.0.1:{{ WEB_PORT }}' app:app"
    assert stack.apps["web"].services == ["web", "web-worker"]
    assert stack.databases["web-db"].path == "web/instance/app.sqlite"
    assert stack.apps["my-site"].allow_outside  # a source beside the stack, asked for
    text = stack_text(data, ["web: python: because"])
    assert text.startswith("# written by `deployflow init`") and "#   web: python: because" in text
    assert yaml.safe_load(text) == data
    assert "#   hosts: {web.localhost: web, my-site.localhost: my-site}" in text
    block = text[text.index("# proxy:") :].splitlines()
    proxy = yaml.safe_load("\n".join(line.removeprefix("# ") for line in block))
    with_proxy = Stack.model_validate({**data, **proxy})  # uncommented, it is valid
    assert with_proxy.proxy and with_proxy.proxy.hosts["web.localhost"] == "web"
