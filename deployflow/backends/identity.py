"""Who a target's worker runs as: the stack's declared user (`targets.NAME.user`), never root
unless asked (`user: root`, or DEPLOYFLOW_WORKER_USER=root for a stack that names none). Root
starting a worker for another user prepares what that user needs: the deploy root owned by it,
a Prefect home of its own, its own backup signing key (0600, its owner only)."""

from __future__ import annotations

import os
import pwd
from dataclasses import dataclass
from pathlib import Path

from deployflow.backends.prefect_server import data_dir
from deployflow.errors import DeployflowError, StackError

__all__ = ["WORKER_USER", "Identity", "prepare_worker_home", "worker_identity"]

WORKER_USER = "DEPLOYFLOW_WORKER_USER"  # the worker's user for a stack that names none


@dataclass(frozen=True)
class Identity:
    name: str
    uid: int
    gid: int

    @property
    def switch(self) -> bool:
        """True when the worker runs as another user than this process (which is root)."""
        return self.uid != os.geteuid()


def _lookup(name: str, target: str) -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(name)
    except KeyError:
        raise StackError(
            f"target {target!r}: user {name!r} does not exist on this host "
            f"(create it: useradd --system {name})"
        ) from None


def worker_identity(declared: str | None, target: str) -> Identity:
    """The user the target's worker runs as, or one line saying why it cannot start."""
    me = os.geteuid()
    name = declared or os.environ.get(WORKER_USER) or None
    if name is None:
        if me == 0:
            raise StackError(
                f"target {target!r} names no user, and deployflow runs no worker as root unless "
                f"asked: set targets.{target}.user (a deploy user, or root), or {WORKER_USER}"
            )
        name = pwd.getpwuid(me).pw_name
    entry = _lookup(name, target)
    if entry.pw_uid != me and me != 0:
        raise StackError(
            f"target {target!r}: its worker runs as {name!r}; start it as {name} or as root"
        )
    return Identity(entry.pw_name, entry.pw_uid, entry.pw_gid)


def _owned(path: Path, who: Identity, target: str) -> None:
    """`path` exists and belongs to `who`: created for it when missing, else checked."""
    if not path.exists():
        path.mkdir(parents=True, mode=0o755)
        os.chown(path, who.uid, who.gid)
        return
    owner = path.stat().st_uid
    if owner != who.uid:
        holder = _name_of(owner)
        raise DeployflowError(
            f"{path} belongs to {holder}, but target {target!r}'s worker runs as {who.name}: "
            f"chown -R {who.name} {path}, or set targets.{target}.user: {holder}"
        )


def _name_of(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def prepare_worker_home(who: Identity, root: Path, pool: str, target: str) -> dict[str, str]:
    """As root, for a worker that runs as `who`: its deploy root (owned by it), a home of its
    own for Prefect and tools (the worker's HOME and PREFECT_HOME), its signing key made here
    (the deployflow home is only traversable to it, 0711). Returns the env to run it with."""
    from deployflow.backends.signing import signing_key_path

    home = data_dir()
    home.mkdir(parents=True, exist_ok=True)
    home.chmod(home.stat().st_mode & 0o777 | 0o711)
    _owned(root, who, target)
    own = home / "workers" / f"{pool}.home"
    _owned(own, who, target)
    own.chmod(0o700)
    key = signing_key_path(who.name)
    if not key.exists():
        from deployflow.backends.signing import make_key

        make_key(key)
    os.chown(key, who.uid, who.gid)
    return {"HOME": str(own), "PREFECT_HOME": str(own / ".prefect"), "USER": who.name}
