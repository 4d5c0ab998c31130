"""deployflow as a service, first part: `deployflow api migrate` and `api serve` as real
processes on a free port, once on SQLite and once on the session's throwaway PostgreSQL.
Accounts (register, log in, rotate a key), API keys on every route, projects and their
isolation between two users, bad input as JSON `{"detail": ...}`, login rate limiting, the
audit read back from the database, and only hashes of keys and passwords stored there."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest

from tests.e2e.apiserver import PASSWORD, Api, cli, migrated, pg_database
from tests.e2e.pgserver import ADMIN_PASSWORD, as_admin


@pytest.fixture(params=["sqlite", "postgresql"])
def api(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Api]:
    with ExitStack() as stack:
        url, pg = f"sqlite:///{tmp_path / 'api.db'}", None
        if request.param == "postgresql":
            port = request.getfixturevalue("pg_server")[1]
            url, pg = stack.enter_context(pg_database(port))
        env = {**os.environ, "DEPLOYFLOW_HOME": str(tmp_path / "home")}
        env["DEPLOYFLOW_API_DATABASE_URL"] = url
        refused = cli(env, "api", "serve")  # an empty database: one line, nothing served
        assert refused.returncode == 1 and "run `deployflow api migrate`" in refused.stderr
        assert ADMIN_PASSWORD not in refused.stderr + refused.stdout
        server = Api(url, migrated(url, tmp_path / "home"), pg)
        server.start()
        stack.callback(server.stop)
        yield server


def test_accounts_keys_and_projects_each_user_sees_only_their_own(api: Api) -> None:
    alice = api.register("alice@example.com")
    bob = api.register("Bob@Example.com")
    again = api.post("/auth/register", json={"email": "ALICE@example.com", "password": PASSWORD})
    assert again.status_code == 409 and "log in instead" in again.json()["detail"]
    short = api.post("/auth/register", json={"email": "c@example.com", "password": "short"})
    assert short.status_code == 422

    assert api.get("/projects").status_code == 401
    assert api.get("/projects").json() == {"detail": "an API key is required (header X-API-Key)"}
    assert api.get("/projects", "dfk_0123456789abcdef_nope").status_code == 401
    assert api.get("/projects", "not-a-key").status_code == 401

    made = api.post("/projects", alice, json={"name": "shop"})
    assert made.status_code == 201 and made.json()["subdomain"] == "shop"
    shop = made.json()["id"]
    for bad in ("a/b", "Shop", "x" * 51, "", "../etc"):
        assert api.post("/projects", alice, json={"name": bad}).status_code == 422, bad
    taken = api.post("/projects", bob, json={"name": "shop"})
    assert taken.status_code == 409 and "taken" in taken.json()["detail"]
    assert api.get(f"/projects/{shop}", bob).status_code == 404  # not "forbidden": not there
    assert api.get("/projects", bob).json() == []
    assert (
        httpx.delete(f"{api.base}/projects/{shop}", headers={"X-API-Key": bob}).status_code == 404
    )
    assert [p["name"] for p in api.get("/projects", alice).json()] == ["shop"]

    rotated = api.post("/auth/refresh", alice)
    assert rotated.status_code == 200
    fresh = rotated.json()["api_key"]
    assert api.get("/projects", alice).status_code == 401  # the old key stopped at once
    assert api.get(f"/projects/{shop}", fresh).json()["name"] == "shop"

    wrong = api.post("/auth/login", json={"email": "alice@example.com", "password": "x" * 12})
    assert wrong.status_code == 401
    logged = api.post("/auth/login", json={"email": "alice@example.com", "password": PASSWORD})
    assert logged.status_code == 200 and api.get("/projects", logged.json()["api_key"]).is_success
    deleted = httpx.delete(f"{api.base}/projects/{shop}", headers={"X-API-Key": fresh})
    assert deleted.status_code == 204 and api.get("/projects", fresh).json() == []

    # only hashes in the database; every request audited without a key in it
    stored = "\n".join("\n".join(api.rows(t)) for t in ("users", "api_keys", "audit"))
    for secret in (alice, bob, fresh, logged.json()["api_key"], PASSWORD):
        assert secret not in stored
    audit = api.rows("audit")
    assert any("POST /projects" in r and "201" in r for r in audit)
    assert any("DELETE /projects/{project_id}" in r and "404" in r for r in audit)
    assert api.get("/openapi.json").is_success  # the contract, without a key


def test_login_attempts_are_limited_per_address(api: Api) -> None:
    api.register("carol@example.com")
    answers = [
        api.post("/auth/login", json={"email": "carol@example.com", "password": "w" * 10})
        for _ in range(11)
    ]
    assert [a.status_code for a in answers[:10]] == [401] * 10
    assert answers[10].status_code == 429 and int(answers[10].headers["Retry-After"]) >= 1
    assert "too many login attempts" in answers[10].json()["detail"]


def test_the_database_going_away_is_a_503_and_it_serves_again(api: Api) -> None:
    if api.pg is None:
        pytest.skip("PostgreSQL only: the test takes the database away from the server")
    key = api.register("dave@example.com")
    port, name = api.pg
    with as_admin(port) as conn:
        conn.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false')
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,)
        )
    try:
        gone = api.get("/projects", key)
        assert gone.status_code == 503
        assert gone.json() == {"detail": "the API database does not answer; try again"}
    finally:
        with as_admin(port) as conn:
            conn.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true')
    time.sleep(0.2)
    assert api.get("/projects", key).json() == []
