"""Load a stack file into a `StackContext`: read YAML, env file and secrets, validate everything."""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from pathlib import Path

import yaml
from pydantic import ValidationError

from deployflow.backends.files import atomic_write
from deployflow.blocks.store import read_secret_block
from deployflow.core.context import StackContext
from deployflow.core.envfile import format_env, parse_env
from deployflow.core.layout import Layout
from deployflow.core.stack import Stack
from deployflow.core.variables import ENV_FILE_KEY, resolve_vars, validate_vars
from deployflow.errors import DeployflowError, StackError

__all__ = ["DEFAULT_STACK", "format_validation_error", "load_stack", "stack_targets"]

DEFAULT_STACK = "deployflow.yaml"


def format_validation_error(exc: ValidationError, source: str) -> str:
    parts = []
    for err in exc.errors()[:3]:
        loc = ""
        for item in err["loc"]:
            loc += f"[{item}]" if isinstance(item, int) else (f".{item}" if loc else str(item))
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown key (check its spelling and section)"
        parts.append(f"{loc}: {msg}" if loc else msg)
    more = len(exc.errors()) - 3
    return f"{source}: " + "; ".join(parts) + (f" (+{more} more)" if more > 0 else "")


class _UniqueKeyLoader(yaml.SafeLoader):
    """Safe YAML where a key given twice in one mapping is an error, not a silent overwrite."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: set[object] = set()
        for key_node, _value in node.value:
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, str | int | float | bool) and key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} is given twice", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


MAX_STACK_BYTES = 1 << 20  # a stack file is a page or two of YAML


def _read_yaml(path: Path) -> dict:
    try:
        if not path.is_file():
            raise FileNotFoundError(path)
        if path.stat().st_size > MAX_STACK_BYTES:
            raise StackError(f"{path}: over 1 MB; a stack file is a page or two of YAML")
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise StackError(
            f"stack file {path} not found; pass --stack PATH or run where {DEFAULT_STACK} is"
        ) from None
    except UnicodeDecodeError as exc:
        raise StackError(
            f"{path}: not UTF-8 text (byte {exc.start}); a stack file is YAML in UTF-8"
        ) from None
    except OSError as exc:
        raise StackError(f"cannot read stack file {path}: {exc.strerror}") from exc
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # a SafeLoader
    except RecursionError:
        raise StackError(f"{path}: nested too deeply to be a stack file") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}:{mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "malformed YAML"
        raise StackError(f"{path}{where}: {problem}") from exc
    if not isinstance(data, dict):
        raise StackError(f"{path}: expected a mapping of sections (project, apps, ...)")
    return data


def _read_secrets(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    if stat.S_IMODE(path.stat().st_mode) & 0o077:
        raise StackError(f"{path} holds secrets but is readable by others; run chmod 600 {path}")
    return parse_env(path.read_text(encoding="utf-8"), str(path))


def stack_targets(stack_path: str | Path) -> list[str]:
    """The stack's target names (the file validated, nothing resolved)."""
    path = Path(stack_path).expanduser().resolve()
    return list(_validate(_read_yaml(path), path).targets)


def _validate(data: dict, path: Path) -> Stack:
    try:
        return Stack.model_validate(data)
    except ValidationError as exc:
        raise StackError(format_validation_error(exc, path.name)) from None
    except RecursionError:
        raise StackError(f"{path}: nested too deeply to be a stack file") from None


def _root_of(
    path: Path, stack: Stack, target: str | None, root: str | Path | None, given: object
) -> Path:
    """Where `target` deploys: its own root unless --root says otherwise, else --root or
    DEPLOYFLOW_ROOT (relative to where the user is), else paths.root (relative to the stack)."""
    where = stack.targets[target] if target else None
    if where is not None and where.root and not root:
        return (path.parent / Path(where.root).expanduser()).resolve()
    if given:
        return Path(str(given)).expanduser().resolve()
    return (path.parent / Path(stack.paths.root).expanduser()).resolve()


def load_stack(
    stack_path: str | Path,
    root: str | Path | None = None,
    environ: Mapping[str, str] | None = None,
    persist_generated: bool = True,
    target: str | None = None,
    check_vars: bool = True,
) -> StackContext:
    """Load and validate a stack for one target (default: its only one; its deploy root and
    vars apply); generated secrets are stored 0600 under the deploy root. `check_vars=False`
    (the config editor, which shows the problems itself) loads vars that break the rules."""
    env = os.environ if environ is None else environ
    path = Path(stack_path).expanduser().resolve()
    data = _read_yaml(path)
    stack = _validate(data, path)
    if target is None and len(stack.targets) == 1:
        target = next(iter(stack.targets))
    if target is not None and target not in stack.targets:
        known = ", ".join(stack.targets)
        raise StackError(f"unknown target {target!r}; the stack has: {known}")
    given = root or env.get("DEPLOYFLOW_ROOT")
    roots = {name: _root_of(path, stack, name, root, given) for name in stack.targets}
    root_dir = roots[target] if target else _root_of(path, stack, None, root, given)
    layout = Layout(root_dir)
    file_values: dict[str, str] = {}
    env_file = stack.vars.get(ENV_FILE_KEY)
    if env_file is not None:
        env_path = (path.parent / str(env_file)).expanduser()
        if not env_path.is_file():
            raise StackError(f"vars.env_file: {env_path} not found")
        file_values = parse_env(env_path.read_text(encoding="utf-8"), str(env_path))
    stored = _read_secrets(layout.secrets)
    where = stack.targets[target] if target else None
    raw_vars = {**stack.vars, **(where.vars if where else {})}
    resolved = resolve_vars(
        raw_vars, file_values, env, stored, str(layout.secrets), read_secret_block, stack.secrets
    )
    problems = validate_vars(resolved.all_values(), stack.environment) if check_vars else []
    if problems:
        raise StackError(f"{path.name}: " + "; ".join(problems[:4]))
    if resolved.generated and persist_generated:
        try:
            atomic_write(layout.secrets, format_env({**stored, **resolved.generated}), 0o600)
        except OSError as exc:
            raise DeployflowError(
                f"cannot store generated secrets in {layout.secrets}: {exc.strerror}"
            ) from exc
    for name, app in stack.apps.items():
        if not isinstance(app.source, str):  # git: exported under the root at each deploy
            continue
        source = (path.parent / app.source).resolve()
        if not app.allow_outside and not source.is_relative_to(path.parent):
            raise StackError(
                f"apps.{name}.source: {source} is outside the stack's directory; move it inside "
                "or set allow_outside: true on the app"
            )
    ctx = StackContext(stack, path, root_dir, resolved.plain, resolved.secret, target, roots)
    for name in stack.databases:
        db = ctx.database(name)
        if db.engine == "sqlite":  # a file: no login
            continue
        empty = [f for f in ("database", "user") if not getattr(db, f)]
        if not db.password.get_secret_value():
            empty.append("password")
        if empty:
            raise StackError(f"databases.{name}: {', '.join(empty)} must not be empty")
        if not 1 <= db.port <= 65535:
            raise StackError(f"databases.{name}.port: not a valid port")
    return ctx
