"""An app with `docker:` gets its image at build: the engine started if it is not running
(zero set-up), deployflow's Debian base made if the Dockerfile is generated, the image built
from the build dir and tagged by the build key (an unchanged app reuses its image; a rollback
starts the one its release was built with)."""

from __future__ import annotations

from pathlib import Path

from deployflow.backends.baseimage import BASE_REPO, ensure_base, has_image
from deployflow.backends.dockerd import docker_client, engine_status, start_engine
from deployflow.backends.images import build_image
from deployflow.backends.sourcetree import detect_in
from deployflow.core.containerspec import image_tag
from deployflow.core.context import StackContext
from deployflow.core.detect import ProjectDetectionError
from deployflow.core.dockerfile import image_recipe, render_dockerfile
from deployflow.errors import BuildError
from deployflow.stages import Log
from deployflow.stages.snapshotfile import load_snapshot

__all__ = ["app_dockerfile", "ensure_app_image", "missing_images"]


def _port(ctx: StackContext, app: str) -> int:
    """The image's default $PORT (each container is given its own at run time)."""
    for name in ctx.stack.apps[app].services:
        svc = ctx.stack.services[name]
        if svc.backend == "docker":
            if svc.blue_green:
                return ctx.port(svc.blue_green.ports[0], f"services.{name}.blue_green.ports")
            port = ctx.service_port(name)
            if port:
                return port
    raise BuildError(f"apps.{app}.docker: none of its services is a docker service with a port")


def app_dockerfile(ctx: StackContext, app: str, build: Path, base: str) -> str | None:
    """The generated Dockerfile (None: the app has its own)."""
    if (build / "Dockerfile").is_file():
        return None
    try:
        plan = detect_in(build)
        recipe = image_recipe(plan, {p.name for p in build.iterdir()}, _port(ctx, app))
    except (ProjectDetectionError, ValueError) as exc:
        raise BuildError(f"apps.{app}.docker: cannot generate a Dockerfile: {exc}") from None
    return render_dockerfile(recipe, base)


def missing_images(ctx: StackContext, release_id: str) -> list[str]:
    """The images release `release_id` starts that the engine no longer has (removed by hand
    since, say); empty when it has them all, or when the engine does not run (then starting
    says so). Asked before a rollback stops anything."""
    tags = [
        image_tag(ctx.stack.project, app, state.key)
        for app, state in load_snapshot(ctx, release_id).apps.items()
        if ctx.stack.apps.get(app) is not None and ctx.stack.apps[app].docker is not None
    ]
    if not tags or not engine_status().running:
        return []
    client = docker_client()
    try:
        return [tag for tag in tags if not has_image(client, tag)]
    finally:
        client.close()


def ensure_app_image(ctx: StackContext, app: str, key: str, build: Path, log: Log) -> str:
    docker = ctx.stack.apps[app].docker
    assert docker is not None
    start_engine(log)
    client = docker_client(timeout=1800)
    try:
        own = (build / "Dockerfile").is_file()
        wants_ours = own and f"{BASE_REPO}:" in (build / "Dockerfile").read_text()
        base = docker.base or ("" if own and not wants_ours else ensure_base(client, log=log))
        dockerfile = None if own else app_dockerfile(ctx, app, build, base)
        labels = {"deployflow.project": ctx.stack.project, "deployflow.app": app}
        labels["deployflow.build"] = key
        tag = image_tag(ctx.stack.project, app, key)
        log(f"{app}: image {tag} from {'its Dockerfile' if own else 'a generated Dockerfile'}")
        return build_image(client, build, tag, dockerfile, labels, lambda m: log(f"{app}| {m}"))
    finally:
        client.close()
