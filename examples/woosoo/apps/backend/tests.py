"""Smoke test run by the deploy's test stage inside the new release (no server needed)."""

import ast
from pathlib import Path

source = Path("app.py").read_text()
tree = ast.parse(source)
names = {node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}
missing = {"app", "health", "devices"} - names
if missing:
    raise SystemExit(f"app.py lacks {sorted(missing)}")
print("backend smoke test passed")
