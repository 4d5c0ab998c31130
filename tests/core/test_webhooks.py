"""Webhook signatures, push parsing and routing as pure functions."""

from __future__ import annotations

import hashlib
import hmac

from deployflow.core.stack import WebhookRoute
from deployflow.core.webhooks import Push, match_route, parse_push, verify


def test_signatures() -> None:
    body = b'{"a": 1}'
    good = "sha256=" + hmac.new(b"k", body, hashlib.sha256).hexdigest()
    assert verify("github", "k", body, {"x-hub-signature-256": good})
    assert not verify("github", "k", body + b" ", {"x-hub-signature-256": good})
    assert not verify("github", "k", body, {})
    assert verify("gitlab", "tok", body, {"x-gitlab-token": "tok"})
    assert not verify("gitlab", "tok", body, {"x-gitlab-token": "nope"})
    assert verify("generic", "k", body, {"x-deployflow-signature": good})


def test_push_parsing_and_routes() -> None:
    github = {"ref": "refs/heads/main", "after": "abc", "repository": {"full_name": "a/b"}}
    gitlab = {
        "ref": "refs/heads/rel/1",
        "checkout_sha": "def",
        "project": {"path_with_namespace": "a/b"},
    }
    assert parse_push("github", github) == Push("a/b", "main", "abc")
    assert parse_push("gitlab", gitlab) == Push("a/b", "rel/1", "def")
    assert parse_push("github", {**github, "ref": "refs/tags/v1"}) is None
    routes = [WebhookRoute(repository="a/b", branch="rel/*", run="deploy-app", apps=["x"])]
    assert match_route(routes, Push("a/b", "rel/1", "d")) is routes[0]
    assert match_route(routes, Push("a/b", "main", "d")) is None
