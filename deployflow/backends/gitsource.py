"""Git sources (`source: {git: URL-or-path, ref: main}`): a bare mirror per app under the
root, fetched at each deploy; a ref (or a webhook's exact SHA) resolved to one commit; that
commit exported with `git archive` into a dir of its own, once, which the build then copies."""

from __future__ import annotations

import shutil
import tarfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from deployflow.backends.executor import Command, run
from deployflow.errors import BuildError

__all__ = ["Commit", "export", "fetch", "resolve"]

FETCH_TIMEOUT = 600.0


@dataclass(frozen=True)
class Commit:
    sha: str
    ref: str
    author: str
    subject: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _git(*args: object, cwd: Path | None = None, timeout: float = 120.0) -> Command:
    env = {"GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "true"}  # never wait on a password prompt
    return Command.of(["git", *args], cwd=cwd, env=env, timeout=timeout)


def _lines(command: Command) -> list[str]:
    out: list[str] = []
    run(command, on_line=out.append, error=BuildError)
    return out


def fetch(url: str, mirror: Path, app: str) -> None:
    """The app's bare mirror, made or brought up to date."""
    try:
        if (mirror / "HEAD").is_file():  # the stack may name another URL since
            run(_git("remote", "set-url", "origin", url, cwd=mirror), error=BuildError)
            command = _git("remote", "update", "--prune", cwd=mirror, timeout=FETCH_TIMEOUT)
            run(command, on_line=lambda _line: None, error=BuildError)
            return
        tmp = mirror.with_name(f".{mirror.name}.tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        mirror.parent.mkdir(parents=True, exist_ok=True)
        try:
            command = _git("clone", "--quiet", "--mirror", url, tmp, timeout=FETCH_TIMEOUT)
            run(command, on_line=lambda _line: None, error=BuildError)
            tmp.rename(mirror)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    except BuildError as exc:
        raise BuildError(
            f"apps.{app}.source: cannot fetch {url} ({str(exc).splitlines()[-1][:200]}); "
            "check the URL and that this host may read it"
        ) from None


def resolve(mirror: Path, ref: str, app: str) -> Commit:
    """`ref` (a branch, a tag or a SHA, a prefix included) as one commit."""
    try:
        sha = _lines(_git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", cwd=mirror))[0]
    except (BuildError, IndexError):
        raise BuildError(
            f"apps.{app}.source: ref {ref!r} is not in the repository (a branch, tag or commit); "
            "see `git ls-remote` for what it has"
        ) from None
    fields = _lines(_git("log", "-1", "--format=%an <%ae>%n%s", sha, cwd=mirror))
    return Commit(sha=sha, ref=ref, author=fields[0], subject=fields[1] if len(fields) > 1 else "")


def export(mirror: Path, commit: Commit, dest: Path) -> Path:
    """The commit's tree in `dest` (made once; a temp dir renamed when complete)."""
    if dest.is_dir():
        return dest
    tmp = dest.with_name(f".{dest.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    archive = tmp.with_suffix(".tar")
    try:
        with open(archive, "wb") as out:
            command = _git("archive", "--format=tar", commit.sha, cwd=mirror)
            run(command, sink=out.write, error=BuildError)
        with tarfile.open(archive) as tar:
            tar.extractall(tmp, filter="data")  # no member escapes, no device files
        tmp.rename(dest)
    finally:
        archive.unlink(missing_ok=True)
        shutil.rmtree(tmp, ignore_errors=True)
    return dest
