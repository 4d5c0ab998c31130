"""The system trust store: a CA installed by Debian's `update-ca-certificates`, optionally
under another root (a chroot, or a test's temp dir) through the tool's own directory options."""

from __future__ import annotations

import os
from pathlib import Path

from deployflow.backends.executor import Command, run
from deployflow.backends.files import atomic_write
from deployflow.backends.treeops import copy_file, make_dir
from deployflow.errors import CommandError

__all__ = ["trust_ca"]

NAME = "deployflow-local-ca.crt"


def trust_ca(ca: Path, prefix: str = "") -> Path:
    """`ca` copied into the store's local dir and the bundle rebuilt; returns its copy."""
    base = Path(prefix or "/")
    local = base / "usr/local/share/ca-certificates"
    dest = local / NAME
    copy_file(ca, dest)
    argv = ["update-ca-certificates"]
    if prefix:
        dirs = {
            "--localcertsdir": local,
            "--etccertsdir": base / "etc/ssl/certs",
            "--certsdir": base / "usr/share/ca-certificates",
            "--hooksdir": base / "etc/ca-certificates/update.d",
        }
        for flag, folder in dirs.items():
            argv += [flag, str(make_dir(folder))]
        conf = base / "etc/ca-certificates.conf"
        if not conf.exists():
            atomic_write(conf, "")
        argv += ["--certsconf", str(conf)]
    try:
        run(Command.of(argv, timeout=120))
    except CommandError as exc:
        hint = "" if os.geteuid() == 0 else " (it writes the system store: run it as root)"
        raise CommandError(f"update-ca-certificates failed{hint}: {exc}") from None
    return dest
