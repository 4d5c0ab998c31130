"""The base image of every generated Dockerfile, made without a registry: Debian's own packages
installed by `debootstrap --variant=minbase` into a root filesystem, packed once into a tarball
cached under the deployflow home, and `docker import`ed as deployflow/debian:<suite>. Runtimes
go on top with apt in each Dockerfile."""

from __future__ import annotations

import tarfile
from pathlib import Path
from typing import Any

from deployflow.backends.executor import Command, resolve_program, run
from deployflow.backends.files import atomic_file
from deployflow.backends.prefect_server import data_dir
from deployflow.backends.treeops import fresh_dir, remove
from deployflow.errors import BuildError

__all__ = ["BASE_REPO", "ensure_base", "has_image"]

BASE_REPO = "deployflow/debian"
MIRROR = "http://deb.debian.org/debian"


def has_image(client: Any, ref: str) -> bool:
    import docker.errors

    try:
        client.images.get(ref)
        return True
    except docker.errors.ImageNotFound:
        return False


def _rootfs_tar(suite: str, log: Any) -> Path:
    """The cached tarball of a minbase root filesystem (made now if missing)."""
    cache = data_dir() / "docker" / f"base-{suite}.tar"
    if cache.is_file():
        return cache
    program = resolve_program("debootstrap")
    if program is None:
        raise BuildError("no debootstrap here: run ./scripts/install (apt: debootstrap)")
    rootfs = fresh_dir(data_dir() / "docker" / f".rootfs-{suite}")
    log(f"base image: debootstrap --variant=minbase {suite} (once; about half a minute)")
    try:
        argv = [program, "--variant=minbase", suite, str(rootfs), MIRROR]
        run(Command.of(argv, timeout=1800), error=BuildError)
        with atomic_file(cache, 0o644) as out, tarfile.open(fileobj=out, mode="w|") as tar:
            for entry in sorted(rootfs.iterdir()):
                tar.add(entry, arcname=entry.name)
    except BuildError as exc:
        raise BuildError(f"debootstrap {suite} failed: {exc}") from None
    finally:
        remove(rootfs)
    return cache


def ensure_base(client: Any, suite: str = "bookworm", log: Any = print) -> str:
    """deployflow/debian:<suite> on the engine (imported from the cached tarball if missing)."""
    ref = f"{BASE_REPO}:{suite}"
    if has_image(client, ref):
        return ref
    tar = _rootfs_tar(suite, log)
    with open(tar, "rb") as data:
        client.api.import_image_from_data(data, repository=BASE_REPO, tag=suite)
    if not has_image(client, ref):
        raise BuildError(f"docker import of {tar} did not make {ref}")
    log(f"base image: {ref} imported from {tar}")
    return ref
