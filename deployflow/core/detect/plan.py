"""What detection decides for one app: data a stack file is written from."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Plan"]


@dataclass
class Plan:
    kind: str  # python | node | go | php | static
    framework: str | None = None
    recipe: str | None = None  # python: the recipe builds its dependency layer
    python: dict[str, list[str]] | None = None  # recipe python's extras, groups, with
    deps: dict[str, list] | None = None  # the dependency layer: inputs, steps, paths
    build: list[list[str]] = field(default_factory=list)
    start: list[str] | None = None  # the web process; "{{ PORT }}" where its port goes
    workers: dict[str, list[str]] = field(default_factory=dict)  # Procfile worker: and the like
    release: list[list[str]] = field(default_factory=list)
    tests: list[list[str]] = field(default_factory=list)  # the tests stage, in the new release
    health: str = "/"  # a path that answers 200
    shared: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    runtime: tuple[str, str] | None = None  # (python | node, the version the app asks for)
    sqlite: str | None = None  # a SQLite file the app keeps (relative to the app's shared dir)
    reasons: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def why(self, line: str) -> None:
        self.reasons.append(line)
