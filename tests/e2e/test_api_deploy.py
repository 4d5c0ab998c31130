"""deployflow as a service, deployments: real `deployflow api serve` processes (on the session's
PostgreSQL, and on SQLite) deploying uploaded trees through the front door (Prefect flow runs on
the session's server) to live URLs behind the platform's nginx, checked with a Host header.
Uploads by the CLI (`login`, `deploy`, `status`) and by raw HTTP; the log over a real
WebSocket; two users; hostile tarballs built here; a server killed mid-deployment."""

from __future__ import annotations

import io
import json
import os
import random
import re
import socket
import tarfile
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil
import pytest
import websocket

from tests.appshapes import write_shape
from tests.conftest import free_port
from tests.e2e.apiserver import PASSWORD, Api, cli, migrated, pg_database
from tests.e2e.conftest import stop_everything, until


@dataclass
class Platform:
    api: Api
    home: Path  # the API's: uploads, the platform stack, its root
    proxy: int

    def page(self, host: str) -> httpx.Response:
        return httpx.get(f"http://127.0.0.1:{self.proxy}/", headers={"Host": host}, timeout=10)


def _platform(
    stack: ExitStack, tmp_path: Path, url: str, pg, embedded: bool = False, **extra: str
) -> Platform:
    """An API serving a platform under `tmp_path`; its runs on the session's Prefect server
    (`PREFECT_API_URL` in `extra`), or with `embedded` on the local server deployflow starts
    under the test's own home, with its warm worker (stopped at the end)."""
    home, proxy = tmp_path / "api-home", free_port()
    env = migrated(
        url,
        tmp_path / "home",
        DEPLOYFLOW_API_HOME=str(home),
        DEPLOYFLOW_API_PROXY_PORT=str(proxy),
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        NO_COLOR="1",
        DEPLOYFLOW_API_FIRST_PORT=str(random.randrange(20000, 30000, 100)),  # apart from others
        **extra,
    )
    if embedded:
        env.pop("PREFECT_API_URL", None)
        stack.callback(cli, env, "server", "stop")
    api = Api(url, env, pg)
    api.start()
    stack.callback(stop_everything, home / "root")
    stack.callback(api.stop)
    return Platform(api, home, proxy)


@pytest.fixture
def on_postgres(tmp_path: Path, pg_server, prefect_api: str) -> Iterator[Platform]:
    with ExitStack() as stack:
        url, pg = stack.enter_context(pg_database(pg_server[1]))
        yield _platform(stack, tmp_path, url, pg, PREFECT_API_URL=prefect_api)


def _tarball(files: dict[str, bytes] | None = None, members: list | None = None) -> bytes:
    """A gzipped tar: `members` (TarInfo, data) first, in order, then `files`."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w:gz") as tar:
        for info, data in members or ():
            tar.addfile(info, io.BytesIO(data) if data else None)
        for name, data in (files or {}).items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return raw.getvalue()


def _upload(p: Platform, key: str, project: int, body: bytes, **fields: str) -> httpx.Response:
    files = {"source": ("source.tar.gz", body, "application/gzip")}
    return p.api.post(f"/projects/{project}/deployments", key, files=files, data=fields)


def _stream(p: Platform, deployment: int, header_key: str | None, first: str | None = None):
    """Every message of the deployment's log stream until the server closes it."""
    url = p.api.base.replace("http", "ws", 1) + f"/deployments/{deployment}/logs/stream"
    ws = websocket.create_connection(url, header=[f"X-API-Key: {header_key}"] if header_key else [])
    if first is not None:
        ws.send(first)
    messages = []
    try:
        while raw := ws.recv():
            messages.append(json.loads(raw))
    except websocket.WebSocketConnectionClosedException:
        pass
    ws.close()
    return messages


def test_cli_deploys_to_live_urls_and_a_failed_deploy_keeps_the_last(
    on_postgres: Platform, tmp_path: Path
) -> None:
    p = on_postgres
    env = p.api.env
    alice_key = p.api.register("alice@example.com")
    logged = cli(
        env,
        "login",
        "--url",
        p.api.base,
        "--email",
        "alice@example.com",
        input=PASSWORD + "\n",
    )
    assert logged.returncode == 0, logged.stderr
    saved = tmp_path / "config" / "deployflow" / "api.json"
    assert saved.stat().st_mode & 0o777 == 0o600
    key = json.loads(saved.read_text())["api_key"]

    site = write_shape(tmp_path / "site", "static")
    (site / ".gitignore").write_text("secret.txt\nbuild/\n")
    for rel in ("secret.txt", "build/out.js", "node_modules/x/i.js", ".git/HEAD", ".venv/cfg"):
        (site / rel).parent.mkdir(parents=True, exist_ok=True)
        (site / rel).write_text("left out")
    deployed = cli(env, "deploy", str(site))
    assert deployed.returncode == 0, deployed.stdout[-3000:] + deployed.stderr[-2000:]
    assert f"live: http://site.localhost:{p.proxy}/" in deployed.stdout
    assert re.search(r"release \d+: deploying", deployed.stdout)  # streamed as it ran
    assert "Hello, static" in p.page("site.localhost").text
    first = json.loads(cli(env, "status", "site", "--json").stdout)[0]["last"]
    uploaded = p.home / "uploads" / str(first["id"]) / "src"
    assert sorted(x.name for x in uploaded.iterdir()) == [".gitignore", "index.html"]

    app = write_shape(tmp_path / "hello", "wsgi")
    assert cli(env, "deploy", str(app)).returncode == 0
    assert p.page("hello.localhost").text == "hello from wsgi"
    assert "Hello, static" in p.page("site.localhost").text

    (app / "requirements.txt").write_text("no-such-package-deployflow-test==9.9.9\n")
    broken = cli(env, "deploy", str(app))
    assert broken.returncode == 1 and "deployment" in broken.stderr, broken.stderr
    status = {r["project"]: r["last"] for r in json.loads(cli(env, "status", "--json").stdout)}
    assert status["hello"]["state"] == "error" and status["site"]["state"] == "live"
    assert "--- the log's last lines ---" in status["hello"]["error"]
    assert status["hello"]["error_kind"] == "build"
    assert p.page("hello.localhost").text == "hello from wsgi"  # the last one serves on
    hello = status["hello"]["project_id"]
    files = {"source": ("s.tgz", _tarball({f.name: f.read_bytes() for f in app.iterdir()}))}
    waited = p.api.post(f"/projects/{hello}/deployments?wait=true", key, files=files, timeout=300)
    assert waited.status_code == 422, waited.text  # a build error, with the log's tail
    assert "failed (build)" in waited.json()["detail"] and "last lines" in waited.json()["detail"]
    # built, but it dies as it starts: a runtime error (502), the last one serving on
    files = {"source": ("s.tgz", _tarball({"requirements.txt": b"\n", "wsgi.py": b"x = 1\n"}))}
    nothing = p.api.post(f"/projects/{hello}/deployments", key, files=files)
    assert nothing.status_code == 422, nothing.text  # no web process: nothing to call live
    assert "no web process found in the python app" in nothing.json()["detail"]
    crashing = b"raise RuntimeError('boom at start')\n" + (app / "wsgi.py").read_bytes()
    files = {"source": ("s.tgz", _tarball({"requirements.txt": b"\n", "wsgi.py": crashing}))}
    waited = p.api.post(f"/projects/{hello}/deployments?wait=true", key, files=files, timeout=300)
    assert waited.status_code == 502, waited.text
    assert "failed (runtime)" in waited.json()["detail"]
    assert p.page("hello.localhost").text == "hello from wsgi"

    runs = "".join(f.read_text() for f in (p.home / "uploads").glob("*/run.log"))
    flow_runs = sorted(set(re.findall(r"/runs/flow-run/([0-9a-f-]{36})", runs)))
    assert len(flow_runs) == 5  # each deployment a flow run on the session's Prefect
    summaries = [f.read_text() for f in (p.home / "uploads").glob("*/summary.json")]
    assert len(summaries) == 5 and all(json.loads(text)["result"] for text in summaries)
    gone = httpx.delete(f"{p.api.base}/projects/{hello}", headers={"X-API-Key": key}, timeout=60)
    assert gone.status_code == 204
    assert p.page("hello.localhost").status_code == 404  # its route is gone
    assert "Hello, static" in p.page("site.localhost").text
    assert [s["project"] for s in json.loads(cli(env, "status", "--json").stdout)] == ["site"]
    assert {d.name for d in (p.home / "uploads").iterdir()} == {str(first["id"])}

    # the log again over the WebSocket: replayed from the start, then the final state
    messages = _stream(p, first["id"], None, first=json.dumps({"api_key": key}))
    assert messages[-1] == {"state": "live", "url": first["url"], "error": None}
    assert [m["line"] for m in messages[:-1]] == [
        row["line"] for row in p.api.get(f"/deployments/{first['id']}/logs", key).json()
    ]
    bob = p.api.register("bob@example.com")
    assert p.api.get(f"/deployments/{first['id']}", bob).status_code == 404
    theirs = _stream(p, first["id"], bob)
    assert theirs == [{"error": f"no deployment {first['id']}"}]
    nobody = _stream(p, first["id"], "dfk_0000000000000000_wrong")
    assert "API key" in nobody[0]["error"]

    # secrets: never in the logs, the audit, the run files or Prefect's own logs
    prefect_logs = httpx.post(
        env["PREFECT_API_URL"] + "/logs/filter",
        json={"logs": {"flow_run_id": {"any_": flow_runs}}, "limit": 200},
    ).json()
    assert prefect_logs
    audit = p.api.rows("audit")
    assert any(f"deployment {first['id']} of project" in r and ": live'" in r for r in audit)
    assert any("POST /projects/{project_id}/deployments" in r and "202" in r for r in audit)
    kept = [runs, *summaries, json.dumps(prefect_logs), logged.stdout, logged.stderr]
    kept += [*p.api.rows("deployment_logs"), *p.api.rows("audit"), *p.api.rows("deployments")]
    for secret in (alice_key, key, bob, PASSWORD):
        assert all(secret not in text for text in kept)


@pytest.fixture
def on_sqlite(tmp_path: Path, prefect_api: str) -> Iterator[Platform]:
    with ExitStack() as stack:
        yield _platform(
            stack,
            tmp_path,
            f"sqlite:///{tmp_path / 'api.db'}",
            None,
            PREFECT_API_URL=prefect_api,
            DEPLOYFLOW_API_MAX_UPLOAD_MB="1",
            DEPLOYFLOW_API_MAX_UNPACKED_MB="2",
        )


def _raw(p: Platform, head: str, body: bytes = b"", shut: bool = False) -> str:
    """What the server answers a hand-made request: its head and body (empty when it just
    hangs up)."""
    with socket.create_connection(("127.0.0.1", p.api.port), timeout=30) as sock:
        sock.sendall(head.encode() + b"\r\n\r\n" + body)
        if shut:
            sock.shutdown(socket.SHUT_WR)
        answer = b""
        try:
            while block := sock.recv(65536):
                answer += block
                top, sep, rest = answer.partition(b"\r\n\r\n")
                length = re.search(rb"(?i)content-length: *(\d+)", top)
                if sep and length and len(rest) >= int(length[1]):
                    break
        except (ConnectionResetError, TimeoutError):
            pass
    return answer.decode("latin-1")


def _member(name: str, kind: bytes, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, link
    return info


def test_hostile_and_bad_uploads_are_refused_and_it_serves_on(
    on_sqlite: Platform, tmp_path: Path
) -> None:
    p = on_sqlite
    key = p.api.register("eve@example.com")
    project = p.api.post("/projects", key, json={"name": "site"}).json()["id"]
    outside = tmp_path / "escaped"
    bomb = _tarball({"index.html": b"<h1>x</h1>", "zeros.bin": bytes(3 << 20)})
    assert len(bomb) < 64 * 1024  # small on the wire, 3 MB unpacked: over the 2 MB allowed
    hostile = {
        "dot-dot": _tarball({"index.html": b"x", f"../../{outside.name}": b"x"}),
        "absolute": _tarball({"index.html": b"x", str(outside / "abs"): b"x"}),
        "symlink out, then a file through it": _tarball(
            {"index.html": b"x", "up/f": b"x"}, [(_member("up", tarfile.SYMTYPE, "/tmp"), None)]
        ),
        "relative symlink climbing out": _tarball(
            {"index.html": b"x"}, [(_member("up", tarfile.SYMTYPE, "../../.."), None)]
        ),
        "hard link to /etc/passwd": _tarball(
            {"index.html": b"x"}, [(_member("pw", tarfile.LNKTYPE, "/etc/passwd"), None)]
        ),
        "device": _tarball({"index.html": b"x"}, [(_member("dev", tarfile.CHRTYPE), None)]),
        "gzip bomb": bomb,
        "not a tarball": os.urandom(2048),
    }
    for case, body in hostile.items():
        answer = _upload(p, key, project, body)
        assert answer.status_code == 422, (case, answer.text)
        assert "refused" in answer.json()["detail"] or "readable" in answer.json()["detail"]
    nothing = _upload(p, key, project, _tarball({"README.md": b"# hi"}))
    assert nothing.status_code == 422 and "no app detected" in nothing.json()["detail"]
    assert str(p.home) not in nothing.json()["detail"]

    wrong_type = p.api.post(f"/projects/{project}/deployments", key, json={"source": "x"})
    assert wrong_type.status_code == 415
    too_big = _upload(p, key, project, os.urandom(2 << 20))
    assert too_big.status_code == 413 and "limit of 1 MB" in too_big.json()["detail"]
    claimed = _raw(
        p,
        f"POST /projects/{project}/deployments HTTP/1.1\r\nHost: x\r\nX-API-Key: {key}\r\n"
        "Content-Type: multipart/form-data; boundary=b\r\nContent-Length: 2147483648",
        b"--b\r\n",
    )
    assert claimed.startswith("HTTP/1.1 413"), claimed[:200]
    part = b'--b\r\nContent-Disposition: form-data; name="source"; filename="s"\r\n\r\n'
    cut = _raw(
        p,
        f"POST /projects/{project}/deployments HTTP/1.1\r\nHost: x\r\nX-API-Key: {key}\r\n"
        f"Content-Type: multipart/form-data; boundary=b\r\nContent-Length: {len(part) + 10}",
        part + b"abcdefghij",  # the body as long as it said, but the closing boundary missing
    )
    assert cut.startswith("HTTP/1.1 400") and "truncated" in cut, cut[:300]
    _raw(  # the client hangs up halfway: nobody to answer; the server carries on
        p,
        f"POST /projects/{project}/deployments HTTP/1.1\r\nHost: x\r\nX-API-Key: {key}\r\n"
        f"Content-Type: multipart/form-data; boundary=b\r\nContent-Length: 100000",
        part + b"x" * 1000,
        shut=True,
    )
    other = p.api.register("mallory@example.com")
    assert _upload(p, other, project, _tarball({"index.html": b"x"})).status_code == 404

    assert not outside.exists() and not Path("/tmp/f").exists()
    assert p.api.get(f"/projects/{project}/deployments", key).json() == []
    assert list((p.home / "uploads").iterdir()) == []  # nothing left of any refused upload
    assert p.api.get("/docs").status_code == 200
    assert p.api.proc is not None and p.api.proc.poll() is None


def test_a_server_killed_mid_deployment_ends_it_after_restart(
    on_sqlite: Platform, tmp_path: Path
) -> None:
    """Killed -9 with the new release switched in and its start hanging (a failpoint): the
    restarted server stops the orphaned run, recovers the root, and ends the deployment as
    `error`; the first deployment serves again."""
    p = on_sqlite
    key = p.api.register("frank@example.com")
    project = p.api.post("/projects", key, json={"name": "site"}).json()["id"]
    files = {"source": ("s.tgz", _tarball({"index.html": b"<h1>version one</h1>"}))}
    v1 = p.api.post(f"/projects/{project}/deployments?wait=true", key, files=files)
    assert v1.status_code == 201 and v1.json()["state"] == "live"  # answered once it ended
    assert "version one" in p.page("site.localhost").text

    p.api.stop()
    p.api.env["DEPLOYFLOW_FAILPOINTS"] = "start=hang"
    p.api.start()
    v2 = _upload(p, key, project, _tarball({"index.html": b"<h1>version two</h1>"})).json()["id"]

    def switched() -> bool:
        lines = [r["line"] for r in p.api.get(f"/deployments/{v2}/logs", key).json()]
        return any("current -> releases/" in line for line in lines)

    until(switched, timeout=120)
    time.sleep(0.5)  # inside the hanging start stage
    orphan = p.api.get(f"/deployments/{v2}", key).json()
    assert orphan["state"] == "deploying"
    p.api.kill()
    stack_file = str(p.home / "deployflow.yaml")
    runner = [
        proc
        for proc in psutil.process_iter(["cmdline"])
        if stack_file in (proc.info["cmdline"] or [])
    ]
    assert runner  # the deploy run outlived its server

    del p.api.env["DEPLOYFLOW_FAILPOINTS"]
    p.api.start()  # recovers before it serves
    ended = p.api.get(f"/deployments/{v2}", key).json()
    assert ended["state"] == "error" and "stopped during this deployment" in ended["error"]
    assert ended["error_kind"] == "interrupted"
    assert f"previous deployment #{v1.json()['id']} serves" in ended["error"]
    assert "version one" in p.page("site.localhost").text
    assert not any(proc.is_running() and proc.status() != "zombie" for proc in runner)
    lines = [r["line"] for r in p.api.get(f"/deployments/{v2}/logs", key).json()]
    assert "recover exited 0" in lines, lines[-10:]

    gone = httpx.delete(f"{p.api.base}/projects/{project}", headers={"X-API-Key": key}, timeout=60)
    assert gone.status_code == 204  # the last project: its service and the proxy stop
    with pytest.raises(httpx.ConnectError):
        p.page("site.localhost")
    assert p.api.get(f"/deployments/{v2}", key).status_code == 404


def _deploy_cli(p: Platform) -> psutil.Process:
    """The `deployflow run app ... --stack <the platform's>` the deployer started."""
    stack_file = str(p.home / "deployflow.yaml")
    (found,) = [
        proc
        for proc in psutil.process_iter(["cmdline"])
        if stack_file in (proc.info["cmdline"] or []) and "run" in proc.info["cmdline"]
    ]
    return found


def test_a_run_killed_mid_deployment_is_settled_from_the_root(
    on_sqlite: Platform, tmp_path: Path
) -> None:
    """The deployment's own run killed -9 (the server lives on) while its start hangs: the
    deployer cannot hear how it ended, so it waits for the root's lock, runs `recover` and reads
    the live release back: `error`/`interrupted`, the first deployment serving again."""
    p = on_sqlite
    key = p.api.register("grace@example.com")
    project = p.api.post("/projects", key, json={"name": "site"}).json()["id"]
    files = {"source": ("s.tgz", _tarball({"index.html": b"<h1>version one</h1>"}))}
    v1 = p.api.post(f"/projects/{project}/deployments?wait=true", key, files=files)
    assert v1.status_code == 201, v1.text

    p.api.stop()
    p.api.env["DEPLOYFLOW_FAILPOINTS"] = "start=hang"
    p.api.start()
    v2 = _upload(p, key, project, _tarball({"index.html": b"<h1>version two</h1>"})).json()["id"]
    log = p.home / "uploads" / str(v2) / "run.log"
    until(lambda: log.is_file() and "current -> releases/" in log.read_text(), timeout=120)
    time.sleep(0.5)  # inside the hanging start stage
    _deploy_cli(p).kill()
    ended = p.api.final(v2, key, timeout=120)
    assert ended["state"] == "error" and ended["error_kind"] == "interrupted", ended
    assert ended["error"].startswith("its run was killed (SIGKILL), before it went live")
    assert f"previous deployment #{v1.json()['id']} serves" in ended["error"]
    assert "version one" in p.page("site.localhost").text
    lines = [r["line"] for r in p.api.get(f"/deployments/{v2}/logs", key).json()]
    assert "recover exited 0" in lines, lines[-10:]
    serving = p.api.get(f"/projects/{project}", key).json()  # the server serves on
    assert serving["live_deployment_id"] == v1.json()["id"], serving


def test_a_follower_killed_on_the_warm_path_the_run_goes_live(tmp_path: Path) -> None:
    """On the embedded default the deployments run on the platform's warm worker; the CLI that
    follows one is killed -9 while the run is stopped at `switch` (a failpoint), then the run
    goes on. The deployer cannot hear the outcome from its CLI, so it waits for the root's lock
    and reads the live release back: `live`, version two through the proxy."""
    with ExitStack() as stack:
        p = _platform(stack, tmp_path, f"sqlite:///{tmp_path / 'api.db'}", None, embedded=True)
        key = p.api.register("hana@example.com")
        project = p.api.post("/projects", key, json={"name": "site"}).json()["id"]
        files = {"source": ("s.tgz", _tarball({"index.html": b"<h1>version one</h1>"}))}
        v1 = p.api.post(f"/projects/{project}/deployments?wait=true", key, files=files, timeout=300)
        assert v1.status_code == 201, v1.text[-3000:]  # started the server, then its worker

        p.api.stop()
        p.api.env["DEPLOYFLOW_FAILPOINTS"] = "switch=stop"
        p.api.start()
        v2 = _upload(p, key, project, _tarball({"index.html": b"<h1>version two</h1>"}))
        v2_id = v2.json()["id"]
        log = p.home / "uploads" / str(v2_id) / "run.log"
        until(lambda: log.is_file() and "on the warm worker of platform-local" in log.read_text())

        def stopped() -> psutil.Process | None:
            for proc in psutil.process_iter(["cmdline", "status"]):
                argv = " ".join(proc.info["cmdline"] or [])
                ours = "deployflow.warm" in argv or "prefect.engine" in argv
                if ours and proc.info["status"] == psutil.STATUS_STOPPED:
                    return proc
            return None

        run = until(stopped)  # the forked flow run, at switch
        follower = _deploy_cli(p)
        follower.kill()
        follower.wait(timeout=30)
        run.resume()
        ended = p.api.final(v2_id, key, timeout=180)
        lines = [r["line"] for r in p.api.get(f"/deployments/{v2_id}/logs", key).json()]
        assert ended["state"] == "live", (ended, lines[-30:])
        assert "version two" in p.page("site.localhost").text
        lines = [r["line"] for r in p.api.get(f"/deployments/{v2_id}/logs", key).json()]
        assert "recover exited 0" in lines, lines[-10:]
        serving = p.api.get(f"/projects/{project}", key).json()
        assert serving["live_deployment_id"] == v2_id


def test_a_project_deploys_in_a_container_when_the_engine_is_up(
    engine, tmp_path: Path, prefect_api: str
) -> None:
    """The session's Docker engine is up (DOCKER_HOST): the project's first deployment picks
    the docker backend, its image built from the Dockerfile `init --docker` writes; deleting the
    project removes its container."""
    from deployflow.backends.dockerd import docker_client

    client = docker_client()
    mine = {"label": "deployflow.project=platform"}
    try:
        with ExitStack() as stack:
            p = _platform(
                stack,
                tmp_path,
                f"sqlite:///{tmp_path / 'api.db'}",
                None,
                PREFECT_API_URL=prefect_api,
            )
            key = p.api.register("gina@example.com")
            project = p.api.post("/projects", key, json={"name": "boxed"}).json()["id"]
            files = {"source": ("s.tgz", _tarball({"index.html": b"<h1>in a box</h1>"}))}
            made = p.api.post(
                f"/projects/{project}/deployments?wait=true", key, files=files, timeout=600
            )
            assert made.status_code == 201, made.text[-3000:]
            assert "in a box" in p.page("boxed.localhost").text
            boxes = client.containers.list(filters=mine)
            assert [b.labels.get("deployflow.app") for b in boxes] == ["boxed"]
            lines = [
                r["line"] for r in p.api.get(f"/deployments/{made.json()['id']}/logs", key).json()
            ]
            assert "deploying boxed on the docker backend" in lines
            gone = httpx.delete(
                f"{p.api.base}/projects/{project}", headers={"X-API-Key": key}, timeout=120
            )
            assert gone.status_code == 204
            assert client.containers.list(filters=mine) == []
    finally:
        for box in client.containers.list(all=True, filters=mine):
            box.remove(force=True)
        client.close()
