"""Files read back: a JSON document, and none when it is missing or was cut short."""

from __future__ import annotations

from pathlib import Path

from deployflow.backends.files import atomic_write, read_json


def test_read_json_gives_the_document_or_none(tmp_path: Path) -> None:
    path = tmp_path / "summary.json"
    assert read_json(path) is None  # not written
    atomic_write(path, '{"result": "success", "live": "7"}')
    assert read_json(path) == {"result": "success", "live": "7"}
    path.write_text('{"result": "succ')  # a writer killed half way
    assert read_json(path) is None
