"""Stack file validation: every bad input is one clear line naming the path."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
import yaml

from deployflow.errors import StackError
from deployflow.loading import load_stack


def _edit(stack: Path, fn) -> None:
    data = yaml.safe_load(stack.read_text())
    fn(data)
    stack.write_text(yaml.safe_dump(data))


def _set_env(stack: Path, key: str, value: str) -> None:
    env = stack.parent / "deployment.config.env"
    lines = [ln for ln in env.read_text().splitlines() if not ln.startswith(f"{key}=")]
    env.write_text("\n".join([*lines, f"{key}={value}"]) + "\n")


def test_example_loads_with_secret_generated_0600(example_stack: Path, tmp_path: Path) -> None:
    ctx = load_stack(example_stack, tmp_path / "root", environ={})
    assert set(ctx.stack.apps) == {"backend", "pwa", "relay"}
    assert "DB_PASSWORD" in ctx.secrets and "DB_PASSWORD" not in ctx.plain
    secrets_file = tmp_path / "root" / ".deployflow" / "secrets.env"
    assert stat.S_IMODE(secrets_file.stat().st_mode) == 0o600
    again = load_stack(example_stack, tmp_path / "root", environ={})
    assert again.secrets["DB_PASSWORD"] == ctx.secrets["DB_PASSWORD"]
    assert "SecretStr('**********')" in repr(ctx.secrets["DB_PASSWORD"])


def test_secret_from_environment_wins(example_stack: Path, tmp_path: Path) -> None:
    ctx = load_stack(example_stack, tmp_path, environ={"WOOSOO_DB_PASSWORD": "s3cret-pw"})
    assert ctx.database("main").password.get_secret_value() == "s3cret-pw"
    assert ctx.redact("password=s3cret-pw") == "password=********"


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("APP_IP", "300.1.1.1", "vars.APP_IP: '300.1.1.1' is not a valid IPv4 address"),
        ("BACKEND_PORT", "80", "vars.BACKEND_PORT: '80' is not a port in 1024-65535"),
        ("BACKEND_PORT", "70000", "is not a port in 1024-65535"),
        ("ENVIRONMENT", "prod", "vars.ENVIRONMENT: 'prod' is not one of"),
        ("DB_USERNAME", "", "vars.DB_USERNAME: database credentials must not be empty"),
    ],
)
def test_bad_master_config(example_stack: Path, tmp_path: Path, key, value, message) -> None:
    _set_env(example_stack, key, value)
    with pytest.raises(StackError, match=message.replace("(", r"\(").replace(".", r"\.")):
        load_stack(example_stack, tmp_path, environ={})


def test_port_clash_names_both(example_stack: Path, tmp_path: Path) -> None:
    env = (example_stack.parent / "deployment.config.env").read_text()
    port = next(ln.split("=")[1] for ln in env.splitlines() if ln.startswith("BACKEND_PORT="))
    _set_env(example_stack, "PWA_PORT", port)
    with pytest.raises(StackError, match=f"port {port} clashes with vars.BACKEND_PORT"):
        load_stack(example_stack, tmp_path, environ={})


def test_unknown_key_names_its_path(example_stack: Path, tmp_path: Path) -> None:
    _edit(example_stack, lambda d: d["apps"]["backend"].update(sourc="x"))
    with pytest.raises(StackError, match=r"apps\.backend\.sourc: unknown key"):
        load_stack(example_stack, tmp_path, environ={})


def test_health_check_needs_exactly_one_kind(example_stack: Path, tmp_path: Path) -> None:
    _edit(example_stack, lambda d: d["apps"]["backend"]["health"][0].update(tcp="x:1"))
    with pytest.raises(StackError, match=r"apps\.backend\.health\[0\]: give exactly one"):
        load_stack(example_stack, tmp_path, environ={})


def test_unknown_service_reference(example_stack: Path, tmp_path: Path) -> None:
    _edit(example_stack, lambda d: d["apps"]["pwa"].update(services=["nope"]))
    with pytest.raises(StackError, match=r"apps\.pwa\.services: unknown service 'nope'"):
        load_stack(example_stack, tmp_path, environ={})


def test_malformed_yaml_gives_line(example_stack: Path, tmp_path: Path) -> None:
    example_stack.write_text("project: woosoo\napps: [unclosed\n")
    with pytest.raises(StackError, match=r"deployflow\.yaml:\d+:\d+"):
        load_stack(example_stack, tmp_path, environ={})


def test_missing_stack_file(tmp_path: Path) -> None:
    with pytest.raises(StackError, match="not found; pass --stack PATH"):
        load_stack(tmp_path / "nope.yaml", tmp_path, environ={})


def test_secrets_file_readable_by_others_is_refused(example_stack: Path, tmp_path: Path) -> None:
    load_stack(example_stack, tmp_path, environ={})
    (tmp_path / ".deployflow" / "secrets.env").chmod(0o644)
    with pytest.raises(StackError, match="chmod 600"):
        load_stack(example_stack, tmp_path, environ={})


def test_config_dest_traversal_refused(example_stack: Path, tmp_path: Path) -> None:
    _edit(example_stack, lambda d: d["apps"]["relay"]["configs"][0].update(dest="../../etc/x"))
    with pytest.raises(StackError, match="must be a relative path"):
        load_stack(example_stack, tmp_path, environ={})


BLUE_GREEN = """
project: bg
paths: {root: ./root}
apps:
  web: {source: ., services: [web]}
services:
  web:
    command: "serve {{ slot.port }}"
    env: {PORT: "{{ slot.port }}"}
    blue_green: {ports: ["{{ BLUE }}", 8102], check: /health}
vars: {BLUE: "8101"}
proxy: {listen: 8080, routes: {"/": web}}
"""


def test_blue_green_service_on_its_slots(tmp_path: Path) -> None:
    from deployflow.core.servicespec import on_slot, service_spec

    (tmp_path / "deployflow.yaml").write_text(BLUE_GREEN)
    ctx = load_stack(tmp_path / "deployflow.yaml", tmp_path / "root", environ={})
    spec = service_spec(ctx, "web", "r1")
    assert spec.slots == [8101, 8102] and spec.upstream is not None
    assert spec.upstream.name == "bg_web.conf"
    green = on_slot(spec, "green")
    assert green.command == ["serve", "8102"] and green.env == {"PORT": "8102"}
    assert green.port == 8102 and green.pid_file is not None
    assert green.pid_file.name == "web.green.pid" and green.unit == "bg-web-green"


PROXY_LINE = 'proxy: {listen: 8080, routes: {"/": web}}'


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('routes: {"/": web}', 'routes: {"/": nope}', "proxy.routes./: a path starting"),
        ('routes: {"/": web}', 'routes: {"api": web}', "proxy.routes.api: a path starting"),
        (PROXY_LINE, "", "an app's service that proxy.routes"),
        ("8102]", "8102, 8103]", "blue_green.ports"),
        ("check: /health", "check: health", "check"),
        (PROXY_LINE, "rollout: {strategy: blue-green}", "an app's service that proxy.routes"),
    ],
)
def test_bad_blue_green(tmp_path: Path, old: str, new: str, message: str) -> None:
    text = BLUE_GREEN.replace(old, new)
    assert text != BLUE_GREEN
    (tmp_path / "deployflow.yaml").write_text(text)
    with pytest.raises(StackError, match=message.replace(".", r"\.")):
        load_stack(tmp_path / "deployflow.yaml", tmp_path / "root", environ={})


def test_blue_green_strategy_needs_a_proxy(tmp_path: Path) -> None:
    text = BLUE_GREEN.replace(PROXY_LINE, "rollout: {strategy: blue-green}")
    text = text.replace('    blue_green: {ports: ["{{ BLUE }}", 8102], check: /health}\n', "")
    (tmp_path / "deployflow.yaml").write_text(text)
    with pytest.raises(StackError, match=r"rollout\.strategy blue-green needs a proxy"):
        load_stack(tmp_path / "deployflow.yaml", tmp_path / "root", environ={})


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"project: caf\xe9\n", "not UTF-8 text"),
        (bytes(range(256)) * 4, "not UTF-8 text"),
        (b"a: " + b"[" * 10_000 + b"]" * 10_000 + b"\n", "nested too deeply"),
        (b"a: " + b"{a: " * 10_000 + b"1" + b"}" * 10_000 + b"\n", "nested too deeply"),
        (b"project: a\npaths: {root: r}\nproject: b\n", ":3:1: key 'project' is given twice"),
        (b"apps:\n  web: {source: ., source: ..}\n", "key 'source' is given twice"),
        (b"x: " + b"y" * (2 << 20), "over 1 MB"),
    ],
)
def test_hostile_stack_files_are_one_line(tmp_path: Path, content: bytes, message: str) -> None:
    stack = tmp_path / "deployflow.yaml"
    stack.write_bytes(content)
    with pytest.raises(StackError, match=message):
        load_stack(stack, tmp_path, environ={})


def test_a_device_as_template_is_refused_not_read(example_stack: Path, tmp_path: Path) -> None:
    from deployflow.core.configs import render_configs
    from deployflow.errors import ConfigError

    _edit(example_stack, lambda d: d["apps"]["relay"]["configs"][0].update(template="/dev/zero"))
    ctx = load_stack(example_stack, tmp_path, environ={})
    with pytest.raises(ConfigError, match="/dev/zero is not a regular file"):
        render_configs(ctx, ["relay"], "r1")
