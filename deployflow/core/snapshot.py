"""A release's snapshot: what it went live with (build keys, configs, resolved service specs and
health checks). Rollback and recovery use the target release's own snapshot, never the stack
file of the moment."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from deployflow.core.healthplan import CheckSpec, check_from_dict, check_to_dict
from deployflow.core.servicespec import ServiceSpec, spec_from_dict, spec_to_dict

__all__ = ["AppState", "Snapshot"]


@dataclass
class AppState:
    """One app in a release: its build, the release whose directory it runs from (itself, or
    an earlier one when the app did not change), its version and its configs' fingerprints."""

    key: str
    runs_from: str
    version: str = ""
    configs: dict[str, dict[str, Any]] = field(default_factory=dict)  # dest -> sha, masked, mode
    services: dict[str, ServiceSpec] = field(default_factory=dict)
    checks: list[CheckSpec] = field(default_factory=list)
    commit: dict[str, str] | None = None  # a git source's: sha, ref, author, subject

    def same_as(self, other: AppState) -> bool:
        """Nothing that a running service sees differs."""
        return (
            self.key == other.key
            and {d: c["sha"] for d, c in self.configs.items()}
            == {d: c["sha"] for d, c in other.configs.items()}
            and self.services == other.services
        )


@dataclass
class Snapshot:
    release: str
    apps: dict[str, AppState] = field(default_factory=dict)
    stack_configs: dict[str, dict[str, Any]] = field(default_factory=dict)

    def services(self, apps: list[str] | None = None) -> list[ServiceSpec]:
        chosen = self.apps if apps is None else [a for a in apps if a in self.apps]
        return [spec for app in chosen for spec in self.apps[app].services.values()]

    def checks(self, apps: list[str] | None = None) -> list[CheckSpec]:
        chosen = self.apps if apps is None else [a for a in apps if a in self.apps]
        return [check for app in chosen for check in self.apps[app].checks]

    def to_json(self) -> str:
        return json.dumps(
            {
                "release": self.release,
                "stack_configs": self.stack_configs,
                "apps": {
                    name: {
                        "key": a.key,
                        "runs_from": a.runs_from,
                        "version": a.version,
                        "configs": a.configs,
                        "services": {n: spec_to_dict(s) for n, s in a.services.items()},
                        "checks": [check_to_dict(c) for c in a.checks],
                        "commit": a.commit,
                    }
                    for name, a in self.apps.items()
                },
            },
            indent=2,
        )

    @classmethod
    def from_json(cls, text: str) -> Snapshot:
        data = json.loads(text)
        apps = {
            name: AppState(
                key=a["key"],
                runs_from=a["runs_from"],
                version=a.get("version", ""),
                configs=a.get("configs", {}),
                services={n: spec_from_dict(s) for n, s in a.get("services", {}).items()},
                checks=[check_from_dict(c) for c in a.get("checks", [])],
                commit=a.get("commit"),
            )
            for name, a in data["apps"].items()
        }
        return cls(data["release"], apps, data.get("stack_configs", {}))
