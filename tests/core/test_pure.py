"""Pure logic: env files, redaction, history folding, pruning, recipes, keys, plans, reports."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from deployflow.core.checksums import build_key, tree_hash
from deployflow.core.configs import config_diff
from deployflow.core.envfile import format_env, parse_env
from deployflow.core.history import event, fold, parse_history, previous_good, releases_to_prune
from deployflow.core.layout import new_release_id
from deployflow.core.recipes import RECIPES, build_steps
from deployflow.core.redact import Redactor
from deployflow.core.report import render_markdown
from deployflow.core.stack import App
from deployflow.errors import StackError


def test_env_file_round_trip() -> None:
    text = '# c\nA=1\nexport B="two words"\nC=x # note\n\nD=\n'
    assert parse_env(text) == {"A": "1", "B": "two words", "C": "x", "D": ""}
    assert parse_env(format_env({"A": "a b", "B": "c"})) == {"A": "a b", "B": "c"}
    with pytest.raises(StackError, match="env file:2: expected KEY=VALUE"):
        parse_env("A=1\nnot a line\n")


def test_redactor_masks_longest_first() -> None:
    redact = Redactor(["abc", "abcdef", ""])
    assert redact("x abcdef y abc") == "x ******** y ********"


def test_diff_masks_secrets() -> None:
    diff = config_diff("PW=old-secret\n", "PW=new-secret\n", "backend:.env", "PW=***\n", "PW=***\n")
    assert "secret" not in diff and "a masked value changed" in diff
    diff = config_diff("A=1\n", "A=2\n", "backend:.env", "A=1\n", "A=2\n")
    assert diff.startswith("--- live/backend:.env") and "+A=2" in diff
    assert config_diff("same", "same", "x", "same", "same") == ""


def _history(*rows: tuple[str, str]) -> list:
    return fold(parse_history("\n".join(event(r, s, f"t{i}") for i, (r, s) in enumerate(rows))))


def test_history_fold_and_previous_good() -> None:
    records = _history(
        ("r1", "building"),
        ("r1", "live"),
        ("r2", "building"),
        ("r2", "live"),
        ("r3", "building"),
        ("r3", "failed"),
    )
    assert [r.status for r in records] == ["live", "live", "failed"]
    assert previous_good(records, before="r3").id == "r2"
    assert previous_good(records, before="r2").id == "r1"
    assert previous_good(records, before="r1") is None


def test_torn_history_line_is_ignored() -> None:
    text = event("r1", "live", "t") + "\n" + '{"release": "r2", "sta'
    assert [r.id for r in fold(parse_history(text))] == ["r1"]


def test_prune_keeps_current_and_last_good() -> None:
    records = _history(("r1", "live"), ("r2", "failed"), ("r3", "failed"), ("r4", "failed"))
    doomed = releases_to_prune(["r1", "r2", "r3", "r4"], records, keep=2, current="r1")
    assert doomed == ["r4", "r3", "r2"]  # failed releases never count toward keep_releases


def test_prune_keeps_n_good_and_what_they_run_from() -> None:
    rows = [("r1", "live"), ("r2", "live"), ("r3", "failed"), ("r4", "live"), ("r5", "live")]
    records = _history(*rows)
    on_disk = ["r1", "r2", "r3", "r4", "r5"]
    assert releases_to_prune(on_disk, records, keep=2, current="r5") == ["r3", "r2", "r1"]
    depends = {"r5": {"r1"}}  # r5 runs an unchanged app from r1's directory
    assert releases_to_prune(on_disk, records, 2, "r5", depends) == ["r3", "r2"]


def test_release_ids_sort_and_never_collide() -> None:
    now = datetime(2026, 11, 23, 8, 0, 0, tzinfo=UTC)
    first = new_release_id(now)
    assert first == "20261123080000"
    assert new_release_id(now, {first}) == "20261123080000-2"


def test_recipes_expand_to_argv() -> None:
    laravel = build_steps(App(source="x", recipe="laravel"))
    assert laravel[0][:2] == ["composer", "install"]
    assert ["php", "artisan", "config:cache"] in laravel
    assert build_steps(App(source="x", recipe="nuxt")) == [["npm", "ci"], ["npm", "run", "build"]]
    assert build_steps(App(source="x", recipe="flutter"))[1] == [
        "flutter",
        "build",
        "web",
        "--release",
    ]
    assert build_steps(App(source="x", recipe="static")) == []
    assert set(RECIPES) == {"laravel", "nuxt", "flutter", "node", "python", "go", "static"}
    combined = build_steps(App(source="x", recipe="node", steps=[["make"]]))
    assert combined[0] == ["npm", "ci", "--omit=dev"] and combined[-1] == ["make"]


def test_tree_hash_and_build_key(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("one")
    (tmp_path / "node_modules").mkdir()
    (tmp_path / "node_modules" / "junk").write_text("ignored")
    first = tree_hash(tmp_path)
    (tmp_path / "node_modules" / "junk").write_text("changed")
    assert tree_hash(tmp_path) == first
    (tmp_path / "a.txt").write_text("two")
    assert tree_hash(tmp_path) != first
    second = tree_hash(tmp_path)
    (tmp_path / "data").symlink_to(tmp_path / "node_modules")  # a link to a dir is an input
    assert tree_hash(tmp_path) != second
    assert build_key("h", [["a"]], {".env": "x"}) != build_key("h", [["a"]], {".env": "y"})


def test_report_markdown() -> None:
    summary = {
        "flow": "full",
        "project": "p",
        "environment": "staging",
        "result": "rolled back",
        "release": "r2",
        "previous": "r1",
        "live": "r1",
        "apps": ["a"],
        "started": "t",
        "seconds": 1.5,
        "error": "boom",
        "urls": {"a": "http://x"},
        "stages": [{"name": "verify", "status": "failed", "seconds": 1.0, "detail": "a|b"}],
        "health": [{"name": "http x", "ok": False, "ms": 3.0, "detail": "HTTP 500"}],
    }
    text = render_markdown(summary)
    assert "**Result:** rolled back" in text and "a\\|b" in text and "| http x | FAILED |" in text
    json.dumps(summary)


def test_preflight_verdict() -> None:
    from deployflow.errors import PreflightError
    from deployflow.stages.preflight import Check, verdict

    ok = Check("disk space", True, True, "9 GiB")
    warn = Check("disk space", False, False, "0.5 GiB free")
    bad = Check("port 18000", False, True, "taken by another process")
    assert verdict([ok], force=False) == "1 checks, 0 warnings"
    with pytest.raises(PreflightError, match="deploy anyway with --force"):
        verdict([ok, warn], force=False)
    assert verdict([ok, warn], force=True) == "2 checks, 1 warnings"
    with pytest.raises(PreflightError, match="preflight failed: port 18000: taken"):
        verdict([bad, warn], force=True)


def test_rendered_configs_are_validated_by_kind() -> None:
    from deployflow.core.configs import validate_rendered

    assert validate_rendered("dist/config.json", '{"a": 1}') is None
    assert validate_rendered("dist/config.json", '{"a": }').startswith("JSON line 1")
    assert validate_rendered("app.yaml", "a: [1") is not None
    assert validate_rendered(".env", "A=1\nB=2\n") is None
    assert "expected KEY=VALUE" in validate_rendered(".env", "A=1\noops\n")
    assert validate_rendered("nginx/site.conf", "anything {") is None


def test_backup_retention() -> None:
    from datetime import timedelta

    from deployflow.core.retention import backups_to_prune, parse_age

    now = datetime(2026, 11, 23, tzinfo=UTC)
    created = {f"b{i}": now - timedelta(days=i * 10) for i in range(6)}  # b0 newest, b5 50 days old
    assert parse_age("30d") == timedelta(days=30) and parse_age("15m") == timedelta(minutes=15)
    assert backups_to_prune(created, keep_minimum=2, older_than="30d", now=now) == ["b4", "b5"]
    assert backups_to_prune(created, keep_minimum=5, older_than="30d", now=now) == ["b5"]
    assert backups_to_prune(created, keep_minimum=1, older_than="100d", now=now) == []
