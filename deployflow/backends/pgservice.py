"""A PostgreSQL server as a stack service (`services.NAME.postgres: {data, port}`): this module
is the service's command. It initialises the data dir on first start (initdb: the local socket
trusted, in the data dir that only the server's user can reach; TCP by password), then becomes
`postgres` itself (exec: the process backend tracks and stops the server's own pid). Under root
it runs as the `postgres` user, as PostgreSQL requires; no hand-written setpriv or initdb.

    python -m deployflow.backends.pgservice --data DIR --port PORT [--host 127.0.0.1]"""

from __future__ import annotations

import argparse
import glob
import os
import pwd
import shutil
import subprocess
import sys
from pathlib import Path

__all__ = ["SUPERUSER", "main", "server_argv"]

SUPERUSER = "postgres"  # the role initdb makes; deployflow's admin over the trusted socket


def _bin(tool: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{tool}"))
    if not found:
        sys.exit("PostgreSQL is not installed (Debian's postgresql: ./scripts/install installs it)")
    return found[-1]


def _account() -> pwd.struct_passwd | None:
    """The user the server runs as when this process is root (PostgreSQL refuses root)."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam("postgres")
    except KeyError:
        sys.exit("running as root needs a `postgres` user to run PostgreSQL as (Debian's package)")


def _become(account: pwd.struct_passwd | None) -> None:
    if account is not None:
        os.initgroups(account.pw_name, account.pw_gid)
        os.setgid(account.pw_gid)
        os.setuid(account.pw_uid)


def _initialise(data: Path, account: pwd.struct_passwd | None) -> None:
    if (data / "PG_VERSION").exists():
        return
    if data.exists() and any(data.iterdir()):
        sys.exit(f"{data} is neither empty nor a PostgreSQL data dir; move it away")
    data.mkdir(parents=True, exist_ok=True, mode=0o700)
    if account is not None:
        shutil.chown(data, account.pw_uid, account.pw_gid)
    argv = [_bin("initdb"), "-D", str(data), "-U", SUPERUSER, "-E", "UTF8"]
    argv += ["--auth-local=trust", "--auth-host=scram-sha-256"]
    done = subprocess.run(
        argv,
        preexec_fn=(lambda: _become(account)) if account else None,
        capture_output=True,
        text=True,
        cwd="/",
    )
    if done.returncode != 0:
        sys.exit(f"initdb failed: {(done.stderr or done.stdout).strip()[-500:]}")


def server_argv(data: Path, port: int, host: str) -> list[str]:
    return [
        _bin("postgres"),
        "-D",
        str(data),
        "-p",
        str(port),
        "-k",
        str(data),  # the socket lives in the data dir: 0700, the server's user only
        "-c",
        f"listen_addresses={host}",
    ]


def main(args: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="deployflow.backends.pgservice")
    parser.add_argument("--data", required=True, type=Path)
    parser.add_argument("--port", required=True, type=int)
    parser.add_argument("--host", default="127.0.0.1")
    opts = parser.parse_args(args)
    account = _account()
    data = opts.data.resolve()
    _initialise(data, account)
    argv = server_argv(data, opts.port, opts.host)
    os.chdir("/")
    _become(account)
    os.execv(argv[0], argv)


if __name__ == "__main__":
    main()
