"""The app's own test suite, run by deployflow's test stage in the new release."""

import sqlite3


def test_health_and_notes(tmp_path):
    from notes import create_app

    (tmp_path / ".env").write_text("RELEASE=test\nGREETING=hi\n")
    (tmp_path / "VERSION").write_text("0\n")
    (tmp_path / "instance").mkdir()
    app = create_app(tmp_path)
    conn = sqlite3.connect(tmp_path / "instance" / "notes.sqlite")
    conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
    conn.commit()
    client = app.test_client()
    assert client.post("/notes", json={"body": "x"}).status_code == 201
    assert client.get("/health").get_json()["notes"] == 1
