"""The app side of the stack file: how an app is built (source, recipe, dependency layer,
steps), configured, released and checked."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from deployflow.core.stackbase import _Model
from deployflow.core.stackdata import HealthCheck, Migrations, Queue

__all__ = [
    "App",
    "ConfigTarget",
    "Deps",
    "DockerApp",
    "GitSource",
    "Hooks",
    "PythonBuild",
    "Recipe",
]

Recipe = Literal["laravel", "nuxt", "flutter", "node", "python", "go", "static"]


class ConfigTarget(_Model):
    template: str
    dest: str
    mode: Annotated[str, Field(pattern=r"^0[0-7]{3}$")] = "0644"

    @field_validator("dest")
    @classmethod
    def _relative(cls, value: str) -> str:
        if value.startswith("/") or ".." in value.split("/"):
            raise ValueError("must be a relative path inside the app (no '/' prefix, no '..')")
        return value


class Hooks(_Model):
    """Commands run in the new release with its configs: `before_start` after the stop stage
    and SQL migrations (e.g. `flask db upgrade`), `after_start` once it is verified."""

    before_start: list[list[str]] = []
    after_start: list[list[str]] = []


class GitSource(_Model):
    """An app built from a git repository: a URL, or a path relative to the stack file."""

    git: str
    ref: str = "main"


class Deps(_Model):
    """An app's dependency layer, built once per content of its `inputs` (lock files) and
    shared by every build of the app with the same inputs: a code-only change reuses it."""

    inputs: Annotated[list[str], Field(min_length=1)]  # files, relative to the source
    steps: Annotated[list[list[str]], Field(min_length=1)]  # run in the layer's own dir
    paths: Annotated[list[str], Field(min_length=1)]  # what they make (.venv, node_modules)


class PythonBuild(_Model):
    """How `recipe: python` fills the app's virtualenv: the `extras` and dependency `groups`
    of its pyproject.toml (a test extra for the tests stage), and packages `with` them (a
    server the app does not list, e.g. waitress). The project itself is not installed: its
    code runs from the release directory."""

    model_config = {**_Model.model_config, "populate_by_name": True}

    extras: list[str] = []
    groups: list[str] = []
    with_: Annotated[list[str], Field(alias="with")] = []


class DockerApp(_Model):
    """The app runs as a container: its image built from its own Dockerfile, or one generated
    from detection on `base` (default: deployflow/debian:bookworm, made from Debian's packages),
    tagged by build key; its docker services run it with these limits."""

    base: str | None = None  # an image the engine already has
    memory: Annotated[str, Field(pattern=r"^\d+[kmg]$")] = "512m"
    cpus: Annotated[float, Field(gt=0, le=64)] = 0.5
    restart: Literal["no", "on-failure", "unless-stopped", "always"] = "unless-stopped"


class App(_Model):
    source: str | GitSource
    allow_outside: bool = False  # a source outside the stack's directory must be asked for
    recipe: Recipe | None = None
    steps: list[list[str]] = []  # after the recipe's, when there is one
    deps: Deps | None = None  # with recipe python: made from its lock files unless given
    python: PythonBuild | None = None  # with recipe python
    docker: DockerApp | None = None  # its services with backend docker run its image
    tests: list[list[str]] = []
    hooks: Hooks = Hooks()
    timeout: Annotated[float, Field(gt=0, le=86400)] = 900.0  # per build/test/hook command
    shared: list[str] = []
    configs: list[ConfigTarget] = []
    migrations: Migrations | None = None
    services: list[str] = []
    health: list[HealthCheck] = []
    queue: Queue | None = None
    logs: list[str] = []  # log files (globs) inside the app's live dir: storage/logs/*.log
    url: str | None = None
    # the app's environment, for its services, hooks, release commands and tests: a rendered
    # config (a KEY=VALUE file in the release) and values rendered from the stack's vars
    env_file: str | None = None
    env: dict[str, str] = {}
    test_database: str | None = None  # the tests get a throwaway database like this one
    # the release phase (Heroku's `release:`): commands run once per release in its dir and
    # environment, online (before the stop, the old release serving) or offline (after it)
    release: list[list[str]] = []
    migrate: Literal["online", "offline"] | None = None  # default: online with blue-green
    version: list[str] | None = None  # prints the schema version each release records
    down: list[list[str]] = []  # run on a rollback across versions: {{ target.version }}

    @model_validator(mode="after")
    def _steps(self) -> App:
        if self.python is not None and self.recipe != "python":
            raise ValueError("python: is how recipe: python installs; add recipe: python")
        for key, steps in (
            ("steps", self.steps),
            ("deps.steps", self.deps.steps if self.deps else []),
            ("tests", self.tests),
            ("hooks.before_start", self.hooks.before_start),
            ("hooks.after_start", self.hooks.after_start),
            ("release", self.release),
            ("down", self.down),
            ("version", [self.version] if self.version is not None else []),
        ):
            if any(not step for step in steps):
                raise ValueError(f"{key}: every step is a non-empty argv list")
        for key, entries in (
            ("shared", self.shared),
            ("logs", self.logs),
            ("env_file", [self.env_file] if self.env_file else []),
            ("deps.inputs", self.deps.inputs if self.deps else []),
            ("deps.paths", self.deps.paths if self.deps else []),
        ):
            for entry in entries:
                if entry.startswith("/") or ".." in entry.split("/"):
                    raise ValueError(f"{key}: {entry!r} must be relative, without '..'")
        return self
