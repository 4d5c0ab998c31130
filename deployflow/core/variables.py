"""Resolve the master config (`vars`) and validate it with the rules ops teams rely on."""

from __future__ import annotations

import secrets as _secrets
from collections.abc import Callable, Iterable, Mapping

from pydantic import SecretStr

from deployflow.core.envfile import ENV_FILE_KEY
from deployflow.core.redact import is_secret_name
from deployflow.core.render import referenced_names, render_string
from deployflow.core.stack import SecretRef, VarValue
from deployflow.core.varrules import validate_vars
from deployflow.errors import ConfigError, StackError

__all__ = ["ENV_FILE_KEY", "ResolvedVars", "resolve_vars", "validate_vars"]


class ResolvedVars:
    """Plain values plus secrets kept as `SecretStr`; `generated` lists secrets made just now."""

    def __init__(
        self, plain: dict[str, str], secret: dict[str, SecretStr], generated: dict[str, str]
    ) -> None:
        self.plain = plain
        self.secret = secret
        self.generated = generated

    def all_values(self) -> dict[str, str]:
        return {**self.plain, **{k: v.get_secret_value() for k, v in self.secret.items()}}


BlockReader = Callable[[str], str | None]


def _secret_value(
    name: str,
    ref: SecretRef,
    environ: Mapping[str, str],
    stored: Mapping[str, str],
    where: str,
    read_block: BlockReader,
) -> tuple[str, bool]:
    """Environment, then the root's 0600 secrets file, then the Prefect Secret block, then
    generated (when allowed)."""
    if environ.get(ref.secret):
        return environ[ref.secret], False
    if stored.get(ref.secret):
        return stored[ref.secret], False
    if ref.block:
        value = read_block(ref.block)
        if value:
            return value, False
    if ref.generate:
        return _secrets.token_urlsafe(24), True
    raise StackError(
        f"vars.{name}: secret {ref.secret} is not set; export {ref.secret}=... or add it to "
        f"{where} (mode 0600)"
        + (f" or to the Prefect Secret block {ref.block}" if ref.block else "")
    )


def resolve_vars(
    raw: Mapping[str, VarValue],
    file_values: Mapping[str, str],
    environ: Mapping[str, str],
    stored: Mapping[str, str],
    secrets_path: str,
    read_block: BlockReader = lambda _name: None,
    secret_names: Iterable[str] = (),
) -> ResolvedVars:
    """Env-file values first, then inline vars; `{{ OTHER }}` references are expanded once, in
    the order they depend on each other. A secret's value is data, never a template: from a
    secret source, named like one, or listed under `secrets:`, it is masked by value."""
    listed = set(secret_names)
    secret: dict[str, SecretStr] = {}
    generated: dict[str, str] = {}
    merged: dict[str, str] = dict(file_values)
    for name, value in raw.items():
        if name == ENV_FILE_KEY:
            continue
        if isinstance(value, SecretRef):
            val, new = _secret_value(name, value, environ, stored, secrets_path, read_block)
            if new:
                generated[value.secret] = val
            secret[name] = SecretStr(val)
            merged.pop(name, None)
        else:
            merged[name] = str(value)
    secret_like = {n for n in merged if n in listed or is_secret_name(n)}
    literal = {n for n in file_values if n not in raw}  # env files hold data
    # a secret written inline is data too, unless it is composed of other vars (a DSN of
    # {{ DB_USER }} and {{ DB_PASSWORD }}): that template is rendered once, like any other
    known = {*merged, *secret}
    literal |= {n for n in secret_like if not _composed(merged[n], known)}
    done = {k: v.get_secret_value() for k, v in secret.items()}
    done.update({n: merged[n] for n in literal})
    for name in merged:
        _expand(name, merged, done, [])
    plain: dict[str, str] = {}
    for name in merged:
        if name in secret_like:
            secret[name] = SecretStr(done[name])
        else:
            plain[name] = done[name]
    return ResolvedVars(plain, secret, generated)


def _composed(text: str, known: set[str]) -> bool:
    try:
        return any(ref in known for ref in referenced_names(text, "secret"))
    except ConfigError:  # not a template at all (a password with "{%" in it)
        return False


def _expand(name: str, merged: Mapping[str, str], done: dict[str, str], path: list[str]) -> str:
    """`merged[name]` rendered once with the values it refers to, those expanded first."""
    if name in done:
        return done[name]
    if name in path:
        cycle = " -> ".join([*path[path.index(name) :], name])
        raise StackError(f"vars.{name}: refers to itself ({cycle}); break the cycle")
    text = merged[name]
    try:
        for ref in referenced_names(text, f"vars.{name}"):
            if ref in merged:
                _expand(ref, merged, done, [*path, name])
        done[name] = render_string(text, done, f"vars.{name}")
    except ConfigError as exc:
        raise StackError(str(exc)) from exc
    return done[name]
