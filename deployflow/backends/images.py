"""Images built on the Docker engine from a build dir: the context is packed here (without
.git, .venv, node_modules: what a Dockerfile's own steps make) with the Dockerfile (the app's
own, or a generated one added to the context only), built with no pull; every FROM must name
an image the engine has, said at once rather than hanging on a registry."""

from __future__ import annotations

import io
import re
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from deployflow.backends.baseimage import has_image
from deployflow.core.dockerfile import CA_DIR
from deployflow.errors import BuildError

__all__ = ["CONTEXT_SKIPS", "build_image", "from_images", "remove_images"]

CONTEXT_SKIPS = {".git", ".venv", "node_modules", "__pycache__", ".deployflow"}
HOST_CAS = Path("/usr/local/share/ca-certificates")  # trusted here: trusted in the build
GENERATED = ".deployflow.Dockerfile"


def from_images(dockerfile: str) -> list[str]:
    """The images FROM lines name (not `scratch`, not an earlier stage)."""
    stages: set[str] = set()
    found = []
    for line in dockerfile.splitlines():
        match = re.match(r"^\s*FROM\s+(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?", line, re.I)
        if match:
            image, alias = match.group(1), match.group(2)
            if image.lower() != "scratch" and image not in stages:
                found.append(image)
            if alias:
                stages.add(alias)
    return found


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode = len(data), 0o644
    tar.addfile(info, io.BytesIO(data))


def _context(build: Path, dockerfile: str | None) -> io.BytesIO:
    """The build dir as a tar, with a generated Dockerfile and the host's CAs beside it."""
    data = io.BytesIO()
    with tarfile.open(fileobj=data, mode="w") as tar:
        for entry in sorted(build.iterdir()):
            if entry.name not in CONTEXT_SKIPS:
                tar.add(entry, arcname=entry.name, filter=_skip_nested)
        if dockerfile is not None:
            _add(tar, GENERATED, dockerfile.encode())
        folder = tarfile.TarInfo(CA_DIR)  # for generated Dockerfiles and those init wrote
        folder.type, folder.mode = tarfile.DIRTYPE, 0o755
        tar.addfile(folder)
        for cert in sorted(HOST_CAS.glob("*.crt")) if HOST_CAS.is_dir() else []:
            _add(tar, f"{CA_DIR}/{cert.name}", cert.read_bytes())
    data.seek(0)
    return data


def _skip_nested(info: tarfile.TarInfo) -> tarfile.TarInfo | None:
    return None if set(info.name.split("/")) & CONTEXT_SKIPS else info


def build_image(
    client: Any,
    build: Path,
    tag: str,
    dockerfile: str | None,
    labels: dict[str, str],
    log: Callable[[str], None],
) -> str:
    """`tag` built from `build` (its own Dockerfile when `dockerfile` is None), unless the
    engine has it already (same build key, same image)."""
    import docker.errors

    if has_image(client, tag):
        log(f"image {tag} reused (its build key is unchanged)")
        return tag
    text = dockerfile if dockerfile is not None else (build / "Dockerfile").read_text()
    missing = [image for image in from_images(text) if not has_image(client, image)]
    if missing:
        raise BuildError(
            f"FROM {missing[0]}: the engine has no such image and no registry is reachable; "
            "name one `docker images` lists, or leave FROM to deployflow's base"
        )
    name = GENERATED if dockerfile is not None else "Dockerfile"
    try:
        stream = client.api.build(
            fileobj=_context(build, dockerfile),
            custom_context=True,
            tag=tag,
            dockerfile=name,
            labels=labels,
            pull=False,
            rm=True,
            forcerm=True,
            decode=True,
        )
        tail: list[str] = []
        for chunk in stream:
            if "error" in chunk:
                said = " | ".join(line for line in tail[-3:] if line)
                raise BuildError(
                    f"docker build of {tag} failed: {chunk['error'].strip()}"
                    + (f" (last output: {said[-300:]})" if said else "")
                )
            line = str(chunk.get("stream", "")).strip()
            if line.startswith("Step "):
                log(line)  # one line a step; the rest only when it fails
            elif line:
                tail = [*tail[-9:], line]
    except docker.errors.APIError as exc:
        raise BuildError(f"docker build of {tag} failed: {exc.explanation or exc}") from None
    if not has_image(client, tag):
        raise BuildError(f"docker build of {tag} ended without the image")
    return tag


def remove_images(tags: list[str]) -> list[str]:
    """Remove these images from deployflow's engine when it runs (pruning never starts it, and
    an image a container still uses stays); returns the tags removed."""
    import docker.errors

    from deployflow.backends.dockerd import docker_client, engine_status

    if not engine_status().running:
        return []
    client = docker_client()
    gone = []
    try:
        for tag in tags:
            try:
                client.images.remove(tag)
                gone.append(tag)
            except docker.errors.APIError:  # not there, or in use: nothing to prune now
                continue
    finally:
        client.close()
    return gone
