"""Benchmark (not a test): deployflow as a service, on the embedded default (SQLite API database,
the local Prefect server deployflow starts, warm workers).

1. Upload -> live, for a static site and for a small Python (WSGI) app: a code-only change
   packed, uploaded with `?wait=true`, until the new version answers through the proxy's host
   route; against `deployflow run full` of the same tree from the stack `deployflow init`
   wrote, until it answers on its port, alternating in the same run. First deploys once each.
2. WebSocket log lag: each line's arrival over `/deployments/{id}/logs/stream` against the
   moment it appeared in the run's own output file (polled every 2 ms). Aim: < 100 ms.
3. `GET /deployments/{id}` with 50 concurrent clients for a few seconds, against `GET /docs`
   (no key, no database) on the same server, in the same run.

Usage: .venv/bin/python bench/api.py [--runs 3] [--clients 50] [--seconds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from pathlib import Path

import httpx
import websocket

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from code_change import wait_answering
from example import free_port

from deployflow.api.runlog import tidy
from deployflow.backends.logfollow import FileFollower

ME = [sys.executable, "-m", "deployflow"]
PASSWORD = "bench-password-1"


def _files(shape: str, version: str) -> dict[str, str]:
    if shape == "static":
        return {"index.html": version}
    app = (
        "def application(environ, start_response):\n"
        "    start_response('200 OK', [('Content-Type', 'text/plain')])\n"
        f"    return [b'{version}']\n"
    )
    return {"requirements.txt": "\n", "wsgi.py": app}


def _write(src: Path, files: dict[str, str]) -> None:
    src.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (src / name).write_text(text)


def _tarball(files: dict[str, str]) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w:gz") as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return raw.getvalue()


class Service:
    """`deployflow api serve` on a free port, one account, its projects."""

    def __init__(self, work: Path, env: dict[str, str]) -> None:
        self.proxy = free_port()
        self.env = {
            **env,
            "DEPLOYFLOW_API_HOME": str(work / "api"),
            "DEPLOYFLOW_API_PROXY_PORT": str(self.proxy),
        }
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        subprocess.run([*ME, "api", "migrate"], env=self.env, check=True, capture_output=True)
        argv = [*ME, "api", "serve", "--port", str(self.port)]
        self.proc = subprocess.Popen(argv, env=self.env, stdout=subprocess.DEVNULL)
        wait_up(self.base + "/docs")
        answer = httpx.post(
            self.base + "/auth/register", json={"email": "b@bench.example", "password": PASSWORD}
        )
        self.key = answer.json()["api_key"]
        self.headers = {"X-API-Key": self.key}
        self.projects: dict[str, int] = {}

    def project(self, name: str) -> int:
        if name not in self.projects:
            made = httpx.post(self.base + "/projects", headers=self.headers, json={"name": name})
            self.projects[name] = made.json()["id"]
        return self.projects[name]

    def upload(self, name: str, files: dict[str, str], wait: bool) -> dict:
        answer = httpx.post(
            f"{self.base}/projects/{self.project(name)}/deployments",
            params={"wait": "true"} if wait else {},
            headers=self.headers,
            files={"source": ("source.tar.gz", _tarball(files), "application/gzip")},
            timeout=600,
        )
        if answer.status_code not in (201, 202):
            raise SystemExit(f"upload of {name}: {answer.status_code} {answer.text[:2000]}")
        return answer.json()

    def wait_live(self, name: str, version: str) -> None:
        url = f"http://127.0.0.1:{self.proxy}/"
        ends = time.monotonic() + 60
        while time.monotonic() < ends:
            try:
                answer = httpx.get(url, headers={"Host": f"{name}.localhost"}, timeout=1)
                if answer.text == version:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.02)
        raise SystemExit(f"{name} never answered {version} through the proxy")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=120)


def wait_up(url: str) -> None:
    ends = time.monotonic() + 60
    while time.monotonic() < ends:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise SystemExit(f"{url} never answered")


class ByStackFile:
    """`deployflow init` once, then `deployflow run full` per change, in the same home."""

    def __init__(self, work: Path, shape: str, env: dict[str, str]) -> None:
        self.src = work / f"by-stack-{shape}"
        _write(self.src, _files(shape, "v0"))
        self.env = {**env, "DEPLOYFLOW_ROOT": str(work / f"root-{shape}")}
        subprocess.run(
            [*ME, "init", "--json"], cwd=self.src, env=self.env, check=True, capture_output=True
        )
        self.port = _port_of(self.src / "deployflow.yaml")
        self.shape = shape

    def deploy(self, version: str) -> None:
        _write(self.src, _files(self.shape, version))
        subprocess.run(
            [*ME, "run", "full"], cwd=self.src, env=self.env, check=True, capture_output=True
        )
        wait_answering(f"http://127.0.0.1:{self.port}/", version)

    def stop(self) -> None:
        subprocess.run(
            [*ME, "services", "stop", "all"], cwd=self.src, env=self.env, capture_output=True
        )


def _port_of(stack: Path) -> int:
    import yaml

    data = yaml.safe_load(stack.read_text())
    return int(next(iter(data["vars"].values())))


def upload_to_live(service: Service, work: Path, env: dict[str, str], runs: int) -> None:
    for shape, name in (("static", "site"), ("python", "hello")):
        print(f"\n{shape}: upload -> live (API) against `run full` of the same tree")
        baseline = ByStackFile(work, shape, env)
        started = time.perf_counter()
        service.upload(name, _files(shape, "v0"), wait=True)
        service.wait_live(name, "v0")
        first_ours = time.perf_counter() - started
        started = time.perf_counter()
        baseline.deploy("v0")
        first_base = time.perf_counter() - started
        print(f"  first deploy: API {first_ours:5.2f} s  run full {first_base:5.2f} s")
        ours, base = [], []
        for run in range(1, runs + 1):
            version = f"v{run}"
            started = time.perf_counter()
            service.upload(name, _files(shape, version), wait=True)
            service.wait_live(name, version)
            ours.append(time.perf_counter() - started)
            started = time.perf_counter()
            baseline.deploy(version)
            base.append(time.perf_counter() - started)
            print(f"  run {run}: API {ours[-1]:5.2f} s  run full {base[-1]:5.2f} s")
        ours_m, base_m = statistics.median(ours), statistics.median(base)
        print(
            f"  median: API {ours_m:.2f} s, run full {base_m:.2f} s, ratio {ours_m / base_m:.2f} "
            "(the upload, unpacking and detection ride on the same run)"
        )
        baseline.stop()


def log_lag(service: Service) -> None:
    print("\nWebSocket log lag: arrival over the socket against the line's write to the run's file")
    made = service.upload("hello", _files("python", "lag"), wait=False)
    run_log = Path(service.env["DEPLOYFLOW_API_HOME"]) / "uploads" / str(made["id"]) / "run.log"
    written: dict[str, float] = {}
    done = threading.Event()

    def tail() -> None:
        follower = FileFollower(run_log, "run", from_end=False)
        while not done.is_set():
            lines = follower.lines()
            now = time.perf_counter()
            for raw in lines:
                line = tidy(raw)
                if line is not None:
                    written.setdefault(line, now)
            time.sleep(0.002)
        follower.close()

    watcher = threading.Thread(target=tail, daemon=True)
    watcher.start()
    url = service.base.replace("http", "ws", 1) + f"/deployments/{made['id']}/logs/stream"
    ws = websocket.create_connection(url, header=[f"X-API-Key: {service.key}"])
    arrived: dict[str, float] = {}
    try:
        while raw := ws.recv():
            message = json.loads(raw)
            if "line" not in message:
                break
            arrived.setdefault(message["line"], time.perf_counter())
    except websocket.WebSocketConnectionClosedException:
        pass
    time.sleep(0.1)
    done.set()
    lags = [(arrived[line] - written[line]) * 1000 for line in arrived if line in written]
    lags.sort()
    if not lags:
        print("  no line seen both ways")
        return
    p95 = lags[min(len(lags) - 1, int(len(lags) * 0.95))]
    print(
        f"  {len(lags)} lines: median {statistics.median(lags):.0f} ms, p95 {p95:.0f} ms, "
        f"max {lags[-1]:.0f} ms; aim < 100 ms: {'met' if p95 < 100 else 'NOT met'} (p95)"
    )


async def _hammer(url: str, headers: dict[str, str], clients: int, seconds: float) -> float:
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(headers=headers, limits=limits, timeout=30) as client:
        count, failed = 0, 0
        ends = time.perf_counter() + seconds

        async def one() -> None:
            nonlocal count, failed
            while time.perf_counter() < ends:
                answer = await client.get(url)
                count += 1
                failed += answer.status_code != 200

        started = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(clients)))
        took = time.perf_counter() - started
    if failed:
        raise SystemExit(f"{url}: {failed} of {count} requests failed")
    return count / took


def throughput(service: Service, clients: int, seconds: float) -> None:
    print(f"\nrequests per second, {clients} concurrent clients, {seconds:g} s each")
    deployment = service.upload("hello", _files("python", "rps"), wait=True)["id"]
    url = f"{service.base}/deployments/{deployment}"
    ours = asyncio.run(_hammer(url, service.headers, clients, seconds))
    base = asyncio.run(_hammer(service.base + "/docs", {}, clients, seconds))
    print(
        f"  GET /deployments/{{id}}: {ours:.0f}/s; GET /docs (no key, no database): {base:.0f}/s; "
        f"ratio {ours / base:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--keep", action="store_true", help="Keep the work dir (and say where).")
    args = parser.parse_args()
    prefix = "deployflow-bench-api-"
    place = (
        contextlib.nullcontext(tempfile.mkdtemp(prefix=prefix))
        if args.keep
        else tempfile.TemporaryDirectory(prefix=prefix)
    )
    with place as tmp:
        work = Path(tmp)
        if args.keep:
            print(f"work dir: {work}")
        env = {
            k: v for k, v in os.environ.items() if k not in ("PREFECT_API_URL", "DEPLOYFLOW_ROOT")
        }
        env |= {"DEPLOYFLOW_HOME": str(work / "home"), "NO_COLOR": "1"}
        env["XDG_CONFIG_HOME"] = str(work / "config")
        if os.geteuid() == 0:  # root's worker runs as a named user; root stands for the user's own
            env["DEPLOYFLOW_WORKER_USER"] = "root"
        service = Service(work, env)
        try:
            upload_to_live(service, work, env, args.runs)
            log_lag(service)
            throughput(service, args.clients, args.seconds)
        finally:
            service.stop()
            stack = work / "api" / "deployflow.yaml"
            subprocess.run(
                [
                    *ME,
                    "services",
                    "stop",
                    "all",
                    "--stack",
                    str(stack),
                    "--root",
                    str(work / "api" / "root"),
                ],
                env=env,
                capture_output=True,
            )
            subprocess.run([*ME, "server", "stop"], env=env, capture_output=True)


if __name__ == "__main__":
    main()
