"""Project detection: a source tree turned into how to build, run, release and check it, with a
reason for each decision (Railpack/Nixpacks and buildpacks are the bar). Plain functions over a
source tree (`backends/sourcetree.py` reads one from a directory); `deployflow init` writes their
plans as a stack file."""

from __future__ import annotations

from deployflow.core.detect.files import Tree
from deployflow.core.detect.plan import Plan
from deployflow.core.detect.procfile import apply_procfile
from deployflow.errors import StackError

__all__ = ["Plan", "ProjectDetectionError", "Tree", "detect"]


class ProjectDetectionError(StackError):
    """No detector, or more than one, matches a directory."""


def _detectors() -> list:
    from deployflow.core.detect import node, other, python

    return [python.detect, node.detect, other.detect_go, other.detect_php, other.detect_static]


def detect(tree: Tree) -> Plan:
    """The plan for the app in `tree` (its Procfile and app.json applied last)."""
    found = [plan for fn in _detectors() if (plan := fn(tree)) is not None]
    if len(found) > 1 and found[-1].kind == "static":
        found = found[:-1]  # an index.html beside a real app is the app's page
    if not found:
        raise ProjectDetectionError(
            f"{tree.where}: no app detected (looked for package.json, requirements.txt, "
            "pyproject.toml, setup.py, go.mod, artisan, index.html); write its stack by hand"
        )
    if len(found) > 1:
        kinds = " and ".join(p.kind for p in found)
        raise ProjectDetectionError(
            f"{tree.where}: it looks like {kinds} at once; deploy each from its own directory, "
            "or write the stack by hand"
        )
    return apply_procfile(found[0], tree)
