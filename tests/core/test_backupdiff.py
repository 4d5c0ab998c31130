"""What a restore would change, and whether a restored database matches its record."""

from __future__ import annotations

from deployflow.core.backupdiff import changed_only, compare, parse_checksums, table_problems


def test_parse_checksums_reads_sha256sum_lines() -> None:
    text = f"{'a' * 64}  configs/pwa/dist/config.json\n{'b' * 64}  database/main.sql.gz\njunk\n"
    assert parse_checksums(text) == {
        "configs/pwa/dist/config.json": "a" * 64,
        "database/main.sql.gz": "b" * 64,
    }


def test_compare_names_every_change_and_what_comes_back() -> None:
    backup = {"kept": 1, "changed": (10, 1), "restored": 3}
    live = {"kept": 1, "changed": (20, 2), "extra": 4}
    changes = {c.name: c for c in compare("files", backup, live)}
    assert changes["kept"].change == "same"
    assert changes["changed"].change == "changed" and changes["changed"].detail == "20 -> 10 bytes"
    assert changes["restored"].change == "added" and changes["extra"].change == "removed"
    assert [c.name for c in changed_only(list(changes.values()))] == [
        "changed",
        "extra",
        "restored",
    ]
    rows = compare("database", {"t": {"rows": 3, "checksum": 1}}, {"t": {"rows": 4, "checksum": 2}})
    assert rows[0].line() == "database changed  t  (rows 4 -> 3)"


def test_table_problems() -> None:
    recorded = {"a": {"rows": 2, "checksum": 7}, "b": {"rows": 1, "checksum": 1}}
    assert table_problems(recorded, recorded) == []
    restored = {"a": {"rows": 1, "checksum": 7}, "c": {"rows": 0, "checksum": 0}}
    assert table_problems(recorded, restored) == [
        "a: 1 rows, 2 recorded",
        "b: missing",
        "c: unexpected",
    ]
    restored = {**recorded, "b": {"rows": 1, "checksum": 2}}
    assert table_problems(recorded, restored) == ["b: checksum differs"]
