"""Deployments run one at a time through the same front door as every run: the platform's stack
written from each served project's plan, then `deployflow run app <project>` (a Prefect flow
run), its output tailed into the deployment's log as it comes and its lifecycle into the
deployment's state. A failed one leaves the project's previous deployment serving. After a
restart, a deployment left unfinished is stopped, the root recovered, and the deployment ended
as `error`: never `building` forever."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any, NamedTuple

from sqlalchemy.ext.asyncio import async_sessionmaker

from deployflow.api.models import Deployment, utcnow
from deployflow.api.platform import Served, platform_stack
from deployflow.api.repos import FINAL, Repos
from deployflow.api.runlog import Ended, ended, lifecycle, tidy
from deployflow.api.settings import Settings
from deployflow.backends.dockerd import engine_status
from deployflow.backends.executor import Command, kill_group, run, spawn
from deployflow.backends.files import atomic_write, read_json, read_link
from deployflow.backends.history import created_after, history_offset
from deployflow.backends.lock import lock_holder
from deployflow.backends.logfollow import FileFollower
from deployflow.backends.services.process_table import cmdline_of
from deployflow.backends.services.sockets import free_port_from
from deployflow.backends.sourcetree import detect_in
from deployflow.backends.treeops import remove
from deployflow.core.detect import ProjectDetectionError
from deployflow.core.initstack import stack_text
from deployflow.core.layout import Layout
from deployflow.errors import DeployflowError
from deployflow.ops.initapp import as_containers

__all__ = ["Deployer"]

POLL = 0.02  # seconds between reads of a running deploy's output
POLL_LOCK = 0.5  # seconds between looks at the root's lock, a killed run's flow run going on
STATES = {"building": "building", "deploying": "deploying"}  # lifecycle -> deployment state


def _tidied(lines: list[str]) -> list[str]:
    return [line for raw in lines if (line := tidy(raw)) is not None]


class Wanted(NamedTuple):
    """A project in the platform's stack: the deployment whose source it serves, its port and
    backend."""

    subdomain: str
    deployment: int
    port: int | None
    backend: str | None


class Deployer:
    def __init__(self, sessions: async_sessionmaker, settings: Settings) -> None:
        self.sessions = sessions
        self.settings = settings
        self._one = asyncio.Lock()
        self._news: dict[int, asyncio.Event] = {}
        self._tasks: set[asyncio.Task] = set()
        self._running: set[int] = set()  # pids of deploy runs
        self._stopping = False  # shutting down: a run it interrupts ends with what it said

    # -- following a deployment -------------------------------------------------------------
    def waiter(self, deployment_id: int) -> asyncio.Event:
        """Set at the deployment's next new lines or state."""
        return self._news.setdefault(deployment_id, asyncio.Event())

    def _tell(self, deployment_id: int) -> None:
        self._news.pop(deployment_id, asyncio.Event()).set()

    @staticmethod
    async def wait(news: asyncio.Event, timeout: float) -> None:
        """Until `news` is set, at most `timeout` seconds (another server process may write)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(news.wait(), timeout)

    async def finished(self, deployment_id: int) -> Deployment:
        """The deployment once it is `live` or `error`."""
        while True:
            news = self.waiter(deployment_id)
            async with self.sessions() as s:
                row = await Repos(s).deployment_by_id(deployment_id)
            if row is None or row.state in FINAL:
                assert row is not None, f"deployment {deployment_id} vanished"
                return row
            await self.wait(news, timeout=1.0)

    # -- running ----------------------------------------------------------------------------
    def submit(self, deployment_id: int) -> None:
        task = asyncio.create_task(self._run(deployment_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _update(self, deployment_id: int, **fields: Any) -> None:
        async with self.sessions() as s, s.begin():
            row = await Repos(s).deployment_by_id(deployment_id)
            assert row is not None
            for name, value in fields.items():
                setattr(row, name, value)
            row.updated_at = utcnow()
            state = fields.get("state")
            if state is not None:  # the audit: whose deployment entered which state, when
                project = await Repos(s).project_by_id(row.project_id)
                if project is not None:
                    action = f"deployment {deployment_id} of project {project.id}: {state}"
                    await Repos(s).audit(project.user_id, "deployer", action, 0)
                    if state == "live":
                        project.live_deployment_id = deployment_id
        self._tell(deployment_id)

    async def _say(self, deployment_id: int, lines: list[str]) -> None:
        async with self.sessions() as s, s.begin():
            await Repos(s).add_lines(deployment_id, lines)
        self._tell(deployment_id)

    async def _went_live(self, deployment_id: int) -> None:
        async with self.sessions() as s:
            row = await Repos(s).deployment_by_id(deployment_id)
            project = await Repos(s).project_by_id(row.project_id) if row else None
        url = self.settings.url(project.subdomain) if project else None
        await self._update(
            deployment_id, state="live", url=url, error=None, pid=None, finished_at=utcnow()
        )

    async def _end(self, deployment_id: int, error: str, kind: str) -> None:
        ended = {"state": "error", "error": error, "error_kind": kind, "finished_at": utcnow()}
        await self._update(deployment_id, pid=None, **ended)

    async def _run(self, deployment_id: int) -> None:
        async with self._one:
            try:
                await self._deploy(deployment_id)
            except DeployflowError as exc:
                await self._say(deployment_id, [f"error: {exc}"])
                kind = "detection" if isinstance(exc, ProjectDetectionError) else "internal"
                await self._end(deployment_id, str(exc), kind)
            except Exception as exc:  # the deployment ends either way, with what happened
                await self._end(deployment_id, f"the API failed to run it: {exc!r}", "internal")
                raise

    async def _plan(self, deployment_id: int) -> str:
        """Write the platform's stack with this deployment's source for its project; returns
        the project's subdomain."""
        async with self.sessions() as s, s.begin():
            row = await Repos(s).deployment_by_id(deployment_id)
            assert row is not None
            project = await Repos(s).project_by_id(row.project_id)
            assert project is not None
            served = [(p, live) for p, live in await Repos(s).served() if p.id != project.id]
            if project.port is None:
                project.port = free_port_from(
                    self.settings.first_port, {p.port for p, _ in served if p.port}
                )
            if project.backend is None:
                up = (await asyncio.to_thread(engine_status)).running
                project.backend = "docker" if up else "process"
            row.state = "building"
            row.updated_at = utcnow()
            wanted = [Wanted(p.subdomain, live, p.port, p.backend) for p, live in served]
            wanted.append(Wanted(project.subdomain, deployment_id, project.port, project.backend))
            subdomain = project.subdomain
            await self._say(
                deployment_id, [f"deploying {subdomain} on the {project.backend} backend"]
            )
        self._tell(deployment_id)
        await asyncio.to_thread(self._write_stack, wanted)
        return subdomain

    def _write_stack(self, wanted: list[Wanted]) -> None:
        home = self.settings.home
        served: list[Served] = []
        boxed: list[Served] = []
        for one in sorted(wanted):
            source = self.settings.source(one.deployment)
            entry = (one.subdomain, str(source.relative_to(home)), detect_in(source), one.port or 0)
            served.append(entry)
            if one.backend == "docker":
                boxed.append(entry)
        data = platform_stack(
            served, self.settings.root, self.settings.domain, self.settings.proxy_port
        )
        as_containers(data, boxed, home, force=False)  # a Dockerfile of the upload's is kept
        atomic_write(self.settings.stack_file, stack_text(data, ["the API's platform stack"]))

    def _command(self, *args: str) -> Command:
        stack, root = str(self.settings.stack_file), str(self.settings.root)
        argv = [sys.executable, "-m", "deployflow", *args, "--stack", stack, "--root", root]
        return Command.of(argv, cwd=self.settings.home, env={"NO_COLOR": "1"}, timeout=None)

    def _mark_file(self, deployment_id: int) -> Path:
        return self.settings.source(deployment_id).parent / "mark.json"

    def _write_mark(self, deployment_id: int) -> None:
        """Where the root's history ends as the run starts: the release created after it is
        this deployment's."""
        mark = {"history_offset": history_offset(Layout(self.settings.root).history)}
        atomic_write(self._mark_file(deployment_id), json.dumps(mark), mode=0o600)

    def _made(self, deployment_id: int, lines: list[str]) -> str | None:
        """The release this deployment's run made: as its log said, else the first one the
        root's history records created after the run started (its log may stop before that
        line: the CLI following a warm run killed before the line reached it)."""
        said = next((found[0] for line in lines if (found := lifecycle(line))), None)
        mark = read_json(self._mark_file(deployment_id))
        if said or not isinstance(mark, dict):
            return said
        made = created_after(Layout(self.settings.root).history, int(mark["history_offset"]))
        return made[0] if made else None

    def _files(self, deployment_id: int) -> tuple[Path, Path]:
        """The run's output (its log) and the summary it prints as JSON."""
        folder = self.settings.source(deployment_id).parent
        return folder / "run.log", folder / "summary.json"

    async def _deploy(self, deployment_id: int) -> None:
        subdomain = await self._plan(deployment_id)
        log_file, summary_file = self._files(deployment_id)
        await asyncio.to_thread(self._write_mark, deployment_id)
        command = self._command("run", "app", subdomain, "--plain", "--json")
        proc = spawn(command, log_file, out_file=summary_file)
        self._running.add(proc.pid)
        try:
            code, lines = await self._follow(deployment_id, proc, log_file)
        finally:
            self._running.discard(proc.pid)
        summary = read_json(summary_file)
        if code < 0 and summary is None and not self._stopping:  # killed: it could not tell
            why = f"its run was killed ({signal.Signals(-code).name})"
            await self._settle(deployment_id, lines, why)
            return
        await self._conclude(deployment_id, ended(summary, lines, code))

    async def _follow(
        self, deployment_id: int, proc: subprocess.Popen, log_file: Path
    ) -> tuple[int, list[str]]:
        """The run's lines into the deployment's log as they come, its lifecycle into the
        deployment's state; its exit code and every line, once it ended."""
        await self._update(deployment_id, pid=proc.pid)
        follower = FileFollower(log_file, "run", from_end=False)
        lines: list[str] = []
        try:
            while True:
                code = proc.poll()
                new = _tidied(follower.lines(final=code is not None))
                if new:
                    lines += new
                    await self._say(deployment_id, new)
                    for line in new:
                        _release, state = lifecycle(line) or ("", "")
                        if state in STATES:
                            await self._update(deployment_id, state=STATES[state])
                if code is not None:
                    return code, lines
                await asyncio.sleep(POLL)
        finally:
            follower.close()

    async def _conclude(self, deployment_id: int, end: Ended) -> None:
        if end.live:
            await self._went_live(deployment_id)
        else:
            await self._end(deployment_id, end.error or "", end.kind or "internal")

    # -- a project deleted ------------------------------------------------------------------
    async def retire(self, project_id: int) -> list[str]:
        """Delete the project: its service stopped, its route gone from the proxy (nginx
        stopped when no project is left), its row and uploads removed. Waits for a deploy that
        runs. Returns what was done, line by line."""
        said: list[str] = []
        async with self._one:
            async with self.sessions() as s:
                project = await Repos(s).project_by_id(project_id)
                if project is None:
                    return said
                subdomain, live = project.subdomain, project.live_deployment_id
                ids = [d.id for d in await Repos(s).deployments(project_id, limit=1_000_000)]
                served = [
                    Wanted(p.subdomain, d, p.port, p.backend) for p, d in await Repos(s).served()
                ]
            rest = [one for one in served if one.subdomain != subdomain]
            if live is not None and self.settings.stack_file.is_file():
                await self._services("stop", subdomain, said)
                if not rest:
                    await self._services("stop", "proxy", said)
            async with self.sessions() as s, s.begin():
                project = await Repos(s).project_by_id(project_id)
                if project is not None:
                    await Repos(s).remove(project)
            if live is not None and rest:
                await asyncio.to_thread(self._write_stack, rest)
                await self._services("start", "proxy", said)
            for deployment_id in ids:
                await asyncio.to_thread(remove, self.settings.source(deployment_id).parent)
        return said

    async def _services(self, action: str, name: str, said: list[str]) -> None:
        done = await asyncio.to_thread(
            run, self._command("services", action, name), on_line=said.append, check=False
        )
        if done.returncode != 0:
            raise DeployflowError(f"services {action} {name} failed: {' '.join(said[-3:])}")

    # -- after a restart --------------------------------------------------------------------
    def _ours(self, pid: int) -> bool:
        return str(self.settings.stack_file) in cmdline_of(pid)

    async def recover(self) -> None:
        """End every deployment a stopped server left unfinished, with what happened: its run
        stopped, its log caught up from the run's own file, then settled from the root."""
        async with self.sessions() as s:
            left = [(d.id, d.pid) for d in await Repos(s).unfinished()]
        for _, pid in left:
            if pid and self._ours(pid):
                kill_group(pid, signal.SIGTERM)
                for _ in range(100):
                    if not self._ours(pid):
                        break
                    await asyncio.sleep(0.1)
                kill_group(pid)
        for deployment_id, _ in left:
            lines = await self._catch_up(deployment_id)
            await self._settle(
                deployment_id, lines, "the API server stopped during this deployment"
            )

    async def _settle(self, deployment_id: int, lines: list[str], why: str) -> None:
        """What a deployment whose run ended without saying (killed, or its server stopped)
        did, read back from the root: once the root's lock is free (a flow run on the warm
        worker outlives the CLI that followed it), `recover` puts the last good release back if
        the run left it half way; `live` only when the release it made is the live one now."""
        lock = Layout(self.settings.root).lock
        for _ in range(int(self.settings.settle_seconds / POLL_LOCK)):
            if (holder := await asyncio.to_thread(lock_holder, lock)) is None:
                break
            await asyncio.sleep(POLL_LOCK)
        else:  # still going: say so, never that it failed
            message = (
                f"{why}; {holder.get('purpose', 'an operation')} (pid {holder.get('pid', '?')}) "
                f"still holds the root after {self.settings.settle_seconds} s, so how it ends is "
                "not known: see `deployflow history` on the platform's stack"
            )
            await self._say(deployment_id, [f"error: {message}"])
            await self._end(deployment_id, message, "interrupted")
            return
        said: list[str] = []
        if self.settings.stack_file.is_file():
            done = await asyncio.to_thread(
                run, self._command("recover"), on_line=said.append, check=False
            )
            said.append(f"recover exited {done.returncode}")
        await self._say(deployment_id, said)
        live_now = read_link(self.settings.root / "current")  # the live release's id
        made = await asyncio.to_thread(self._made, deployment_id, lines)
        if made is not None and made == live_now:  # the release it made serves: read back
            await self._went_live(deployment_id)
            return
        async with self.sessions() as s:
            row = await Repos(s).deployment_by_id(deployment_id)
            project = await Repos(s).project_by_id(row.project_id) if row else None
        before = project.live_deployment_id if project else None
        message = f"{why}, before it went live; "
        message += f"the previous deployment #{before} serves" if before else "nothing was live"
        await self._say(deployment_id, [f"error: {message}"])
        await self._end(deployment_id, message, "interrupted")

    async def _catch_up(self, deployment_id: int) -> list[str]:
        """The run's lines from its file; those the server died before storing are stored."""
        follower = FileFollower(self._files(deployment_id)[0], "run", from_end=False)
        try:
            lines = _tidied(follower.lines(final=True))
        finally:
            follower.close()
        async with self.sessions() as s:
            stored = len(await Repos(s).lines(deployment_id, limit=1_000_000))
        if lines[stored:]:
            await self._say(deployment_id, lines[stored:])
        return lines

    async def stop(self, grace: float = 60.0) -> None:
        """On shutdown: a running deploy is interrupted (deployflow puts the previous release
        back) and its deployment ended with what its run said; one that outlives `grace` is
        recovered at the next start."""
        self._stopping = True
        for pid in list(self._running):
            kill_group(pid, signal.SIGTERM)
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=grace)
