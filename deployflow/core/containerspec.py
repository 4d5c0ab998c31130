"""A service of an app with `docker:` as the container it runs: the app's image (tagged by its
build key, so a rollback starts the image the release was built with), limits, restart
policy, labels and the app's shared dirs mounted where the release links them. Pure."""

from __future__ import annotations

from dataclasses import replace

from deployflow.core.context import StackContext
from deployflow.core.servicespec import ServiceSpec

__all__ = ["IMAGE_DIR", "container_spec", "image_tag", "oneoff_argv", "shared_binds"]

IMAGE_DIR = "/app"  # where generated images keep the app (WORKDIR)


def image_tag(project: str, app: str, key: str) -> str:
    return f"deployflow/{project}-{app}:{key[:24]}"


def shared_binds(ctx: StackContext, app: str) -> dict[str, str]:
    """The app's shared dirs (host path -> where the image's app dir has them)."""
    shared = ctx.layout.shared / app
    return {
        str(shared / e.rstrip("/")): f"{IMAGE_DIR}/{e.rstrip('/')}"
        for e in ctx.stack.apps[app].shared
    }


def oneoff_argv(
    engine: str, image: str, name: str, argv: list[str], env: list[str], binds: dict[str, str]
) -> list[str]:
    """`argv` once, in a throwaway container of the app's image (a release command): in the
    image's app dir, on the host's network (it reaches what the services reach on 127.0.0.1),
    the shared dirs mounted, and the environment passed by name only: the values come from
    the docker client's environment, never from this line."""
    out = ["docker", "--host", engine, "run", "--rm", "--init", "--name", name, "--network", "host"]
    out += ["-w", IMAGE_DIR]
    for key in sorted(env):
        out += ["-e", key]
    for host, inside in sorted(binds.items()):
        out += ["-v", f"{host}:{inside}"]
    return [*out, image, *argv]


def container_spec(
    ctx: StackContext, app: str, key: str, release_id: str, spec: ServiceSpec
) -> ServiceSpec:
    """`spec` as its container, when it is a docker service of an app built into an image."""
    docker = ctx.stack.apps[app].docker
    if docker is None or spec.backend != "docker" or ctx.stack.services[spec.name].image:
        return spec
    return replace(
        spec,
        image=image_tag(ctx.stack.project, app, key),
        memory=docker.memory,
        cpus=docker.cpus,
        restart=docker.restart,
        labels={
            "deployflow.project": ctx.stack.project,
            "deployflow.app": app,
            "deployflow.release": release_id,
            "deployflow.build": key,
        },
        binds=shared_binds(ctx, app),
    )
