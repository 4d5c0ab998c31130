"""Benchmark (not a test): deployflow's overhead against the same commands in a plain shell script.

1. A full deploy of the example stack (every app rebuilt) through `deployflow run full` in the CLI
   process (DEPLOYFLOW_WARM=0), against a shell script that runs the same build steps, links,
   migrations, service starts and health waits.
2. `deployflow rollback` against one bare restart of the app services (stop, start, wait healthy).
3. Both again on the default path a user gets: plain `run full` after the first, with nothing set
   up by hand (the first run started the local server, applied the deployments and started the
   warm worker; the CLI creates the run over REST and the worker forks it from its zygote).
   As root, DEPLOYFLOW_WORKER_USER=root stands for the user's own account.
4. The cost of the local server's credential: the REST calls a warm run makes (read the
   deployment, create the run, read its state and logs), against the authenticated local server
   and against a second, unauthenticated one started for the comparison (`--only auth` runs just
   this section).
5. A code-only change to a Python web app with its own locked dependencies (pyproject.toml +
   uv.lock), `deployflow run app` against the same steps by hand (copy, uv sync, restart, wait
   healthy), and 6. the same from a git source against `git archive` + those steps
   (bench/code_change.py; `--only code` runs just these). Aim: <= 1.2 x by hand + 0.5 s.
7. A container deploy of a small app (code-only changes, dependencies cached) through plain
   `run full`, against `docker build` + `docker run` + a health wait by hand
   (bench/containers.py; `--only containers` runs just this). Aim: <= 1.2 x by hand + 1 s.
Start latency (run full --background, a webhook POST -> the first stage): bench/background.py.

Runs alternate A B A B in the same session and the ratio is printed per pair and as the median.
Usage: .venv/bin/python bench/overhead.py [--runs N]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from code_change import measure, summary
from containers import measure as measure_containers
from example import prepare

APP_SERVICES = ["backend-api", "pwa-web", "relay-ws"]


def shell_scripts(ctx) -> tuple[str, str]:
    """The deploy and the bare restart as plain shell, with every value resolved by deployflow."""
    from deployflow.core.recipes import rendered_steps
    from deployflow.core.servicespec import service_spec

    root = ctx.root
    q = shlex.quote
    lines = ["set -e", f"ROOT={q(str(root))}", 'ID="sh$(date +%s%N)"', 'REL="$ROOT/releases/$ID"']
    lines.append('mkdir -p "$REL"')
    for app_name, app in ctx.stack.apps.items():
        src = (ctx.stack_dir / app.source).resolve()
        lines.append(f'cp -a {q(str(src))} "$REL/{app_name}"')
        for argv in rendered_steps(ctx, app_name) + rendered_steps(ctx, app_name, tests=True):
            lines.append(f'(cd "$REL/{app_name}" && {shlex.join(argv)} >/dev/null)')
        for entry in app.shared:
            rel = entry.rstrip("/")
            lines.append(f'rm -rf "$REL/{app_name}/{rel}"')
            lines.append(f'ln -sfn "$ROOT/shared/{app_name}/{rel}" "$REL/{app_name}/{rel}"')
        for config in app.configs:  # the configs deployflow rendered for the live release
            dest = f"$REL/{app_name}/{config.dest}"
            lines.append(f'cp -p "$ROOT/current/{app_name}/{config.dest}" "{dest}"')
    lines.append('echo "$ID" > "$REL/REVISION"')
    db = ctx.database("main")
    mig = ctx.stack.apps["backend"].migrations
    lines.append(
        f'for f in "$REL/backend/{mig.dir}"/*.sql; do '
        f"MYSQL_PWD={q(db.password.get_secret_value())} "
        f'mariadb -h {db.host} -P {db.port} -u {db.user} {db.database} < "$f"; done'
    )
    lines.append(
        'ln -sfn "releases/$ID" "$ROOT/current.tmp" && mv -Tf "$ROOT/current.tmp" "$ROOT/current"'
    )
    restart = ["set -e", f"ROOT={q(str(root))}", 'mkdir -p "$ROOT/sh-run"']
    for name in APP_SERVICES:
        restart.append(
            f'if [ -f "$ROOT/sh-run/{name}.pid" ]; then '
            f'kill -TERM -- -"$(cat "$ROOT/sh-run/{name}.pid")" '
            f'2>/dev/null || true; while kill -0 "$(cat "$ROOT/sh-run/{name}.pid")" 2>/dev/null; '
            f"do sleep 0.05; done; fi"
        )
    for name in APP_SERVICES:
        spec = service_spec(ctx, name)
        restart.append(
            f"(cd {q(str(spec.cwd))} && exec setsid {shlex.join(spec.command)} "
            f'>>"$ROOT/logs/{name}.sh.log" 2>&1 < /dev/null) & echo $! > "$ROOT/sh-run/{name}.pid"'
        )
    for app_name, app in ctx.stack.apps.items():
        for i, check in enumerate(app.health):
            target = ctx.render(check.target, f"apps.{app_name}.health[{i}]")
            if check.kind == "http":
                restart.append(f"until curl -fsS -o /dev/null {q(target)}; do sleep 0.05; done")
            elif check.kind == "ws":
                host_port = target.split("//", 1)[1]
                host, port = host_port.split(":")
                restart.append(
                    f"until (exec 3<>/dev/tcp/{host}/{port}) 2>/dev/null; do sleep 0.05; done"
                )
    deploy = "\n".join(lines + restart[1:]) + "\n"
    return deploy, "\n".join(restart) + "\n"


FLOW_SECONDS: list[float] = []


def timed(argv: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    proc = subprocess.run(argv, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"{argv[:3]} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    if "--json" in argv:
        FLOW_SECONDS.append(json.loads(proc.stdout)["seconds"])
    return elapsed


def stop_shell_services(root: Path) -> None:
    from deployflow.backends.services.process_table import group_members

    for pid_file in (root / "sh-run").glob("*.pid"):
        pgid = int(pid_file.read_text())
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGTERM)
        while group_members(pgid):
            time.sleep(0.02)
        pid_file.unlink()


def _runs(values: list[float]) -> str:
    return ", ".join(f"{x:.2f}" for x in values)


def report(name: str, ours: list[float], base: list[float]) -> None:
    ratios = [a / b for a, b in zip(ours, base, strict=True)]
    inside = FLOW_SECONDS[-len(ours) :]
    FLOW_SECONDS.clear()
    print(f"\n{name}")
    print(f"  deployflow  median {statistics.median(ours):6.2f} s   runs {_runs(ours)}")
    print(f"    inside the flow: median {statistics.median(inside):.2f} s   runs {_runs(inside)}")
    print(f"  baseline    median {statistics.median(base):6.2f} s   runs {_runs(base)}")
    print(
        f"  ratio deployflow/baseline: median {statistics.median(ratios):.2f}x "
        f"(min {min(ratios):.2f}x, max {max(ratios):.2f}x)"
    )


def warm_runner(runs: int, cli, env: dict[str, str], pair, ctx, stack: Path) -> None:
    """Section 3: the same deploys and rollbacks on the default path: through the warm worker
    the first run started (no `server start`, no `deployments apply`)."""
    log = Path(env["DEPLOYFLOW_HOME"]) / "workers" / f"{ctx.stack.project}-local.log"
    while "is warm" not in (log.read_text() if log.is_file() else ""):
        time.sleep(0.2)
    deploys: tuple[list[float], list[float]] = ([], [])
    for i in range(runs):
        for app in ctx.stack.apps:
            (stack.parent / "apps" / app / "VERSION").write_text(f"warm-{i}\n")
        pair(cli("run", "full", "--skip-backup", "--json"), "deploy.sh", deploys)
    report("full deploy, the default path (warm after the first run) vs shell script", *deploys)
    rollbacks: tuple[list[float], list[float]] = ([], [])
    for _ in range(runs):
        timed(cli("run", "full", "--skip-build"), env)
        pair(cli("rollback", "--json"), "restart.sh", rollbacks)
    report("rollback on the warm worker vs one bare restart of the app services", *rollbacks)


def _rest_round(rest, run_id: str) -> float:
    """The calls a followed warm run makes most: its state and its logs, ten times."""
    started = time.perf_counter()
    for _ in range(10):
        rest.run(run_id)
        rest.logs(run_id, 0)
    return time.perf_counter() - started


def auth_cost(env: dict[str, str], rounds: int = 40) -> None:
    """Section 4: the same REST calls with the credential (the local server) and without it (a
    plain server on another port), alternating."""
    from deployflow.backends.prefect_rest import PrefectRest
    from deployflow.backends.prefect_server import QUIET, ensure_api

    os.environ.update({k: v for k, v in env.items() if k.startswith("DEPLOYFLOW_")})
    url = ensure_api()
    home = Path(tempfile.mkdtemp(prefix="deployflow-bench-plain-"))
    port = 4291
    plain_env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    plain_env.update(QUIET, PREFECT_HOME=str(home))
    argv = [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1"]
    server = subprocess.Popen(
        [*argv, "--port", str(port)],
        env=plain_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    plain = f"http://127.0.0.1:{port}/api"
    try:
        while True:
            with contextlib.suppress(OSError):
                from urllib.request import urlopen

                with urlopen(f"{plain}/health", timeout=1):
                    break
            time.sleep(0.3)
        authed, open_ = PrefectRest(url), PrefectRest(plain, auth=None)
        open_._headers.pop("Authorization", None)  # the comparison server takes none
        ids = []
        for rest in (authed, open_):
            flow = rest._call("POST", "/flows/", {"name": "bench-auth"})
            run = rest._call("POST", "/flow_runs/", {"flow_id": flow["id"], "name": "bench"})
            ids.append(run["id"])
        ours, base = [], []
        for _ in range(rounds):
            ours.append(_rest_round(authed, ids[0]))
            base.append(_rest_round(open_, ids[1]))
        print("\nREST calls of a followed warm run (20 a round): credential vs none")
        print(f"  with the credential  median {statistics.median(ours) * 1000:7.1f} ms a round")
        print(f"  without              median {statistics.median(base) * 1000:7.1f} ms a round")
        ratio = statistics.median(ours) / statistics.median(base)
        print(f"  ratio {ratio:.2f}x (1.00 = no cost; both servers on SQLite, same machine)")
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(home, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--only", choices=["auth", "code", "containers"], help="run those sections only"
    )
    args = parser.parse_args()
    if args.only == "code" or args.only is None:
        for git in (False, True):
            print(f"\ncode-only change{' from a git source' if git else ''}: run app vs by hand")
            summary(*measure(args.runs, git=git))
        if args.only == "code":
            return
    if args.only == "containers" or args.only is None:
        print("\ncontainer deploy, code-only change: run full vs docker build + run by hand")
        summary(*measure_containers(args.runs), allowance=1.0)
        if args.only == "containers":
            return
    if args.only == "auth":
        work = Path(tempfile.mkdtemp(prefix="deployflow-bench-"))
        env = {**os.environ, "DEPLOYFLOW_HOME": str(work / "home")}
        env.pop("PREFECT_API_URL", None)
        os.environ.pop("PREFECT_API_URL", None)
        try:
            auth_cost(env)
        finally:
            subprocess.run([sys.executable, "-m", "deployflow", "server", "stop"], env=env)
            shutil.rmtree(work, ignore_errors=True)
        return
    work = Path(tempfile.mkdtemp(prefix="deployflow-bench-"))
    stack = prepare(work)
    root = work / "root"
    env = {
        **os.environ,
        "DEPLOYFLOW_ROOT": str(root),
        "DEPLOYFLOW_HOME": str(work / "home"),
        "NO_COLOR": "1",
    }
    env.pop("PREFECT_API_URL", None)
    if os.geteuid() == 0:  # deployflow runs no worker as root unless asked
        env["DEPLOYFLOW_WORKER_USER"] = "root"
    df = [sys.executable, "-m", "deployflow"]
    cli = lambda *a: [*df, *a, "--stack", str(stack)]  # noqa: E731
    try:
        print("warm-up: local Prefect server, private MariaDB, first release ...", flush=True)
        timed(cli("run", "full"), env)  # and the warm worker, for section 3
        env["DEPLOYFLOW_WARM"] = "0"  # sections 1 and 2: in the CLI process
        os.environ["DEPLOYFLOW_ROOT"] = str(root)
        from deployflow.loading import load_stack

        ctx = load_stack(stack, root)
        deploy_sh, restart_sh = shell_scripts(ctx)
        (work / "deploy.sh").write_text(deploy_sh)
        (work / "restart.sh").write_text(restart_sh)

        def pair(ours: list[str], script: str, into: tuple[list[float], list[float]]) -> None:
            """One A/B pair, both starting with the app services stopped."""
            for name in APP_SERVICES:
                timed(cli("services", "stop", name), env)
            into[0].append(timed(ours, env))
            for name in APP_SERVICES:
                timed(cli("services", "stop", name), env)
            live = os.readlink(root / "current")
            into[1].append(timed(["bash", str(work / script)], env))
            stop_shell_services(root)
            # the script switched `current` to its own release: deployflow's goes back live, or
            # the next run would verify services started from the script's release
            (root / "current.bench").unlink(missing_ok=True)
            os.symlink(live, root / "current.bench")
            os.replace(root / "current.bench", root / "current")
            timed(cli("services", "start", "all"), env)

        deploys: tuple[list[float], list[float]] = ([], [])
        for i in range(args.runs):
            for app in ctx.stack.apps:  # a real change in every app: everything is rebuilt
                (stack.parent / "apps" / app / "VERSION").write_text(f"bench-{i}\n")
            pair(cli("run", "full", "--skip-backup", "--json"), "deploy.sh", deploys)
        report("full deploy (all apps rebuilt): deployflow run full vs shell script", *deploys)
        rollbacks: tuple[list[float], list[float]] = ([], [])
        timed(cli("run", "full"), env)
        for _ in range(args.runs):
            timed(cli("run", "full", "--skip-build"), env)
            pair(cli("rollback", "--json"), "restart.sh", rollbacks)
        report("rollback (deployflow rollback) vs one bare restart of the app services", *rollbacks)
        env.pop("DEPLOYFLOW_WARM")
        warm_runner(args.runs, cli, env, pair, ctx, stack)
        auth_cost(env)
    finally:
        stop_shell_services(root)
        subprocess.run(cli("services", "stop", "all"), env=env, capture_output=True)
        subprocess.run([*df, "server", "stop"], env=env, capture_output=True)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
