"""A small Flask app shaped like a real one: its own virtualenv, served by waitress, an `.env`
rendered by deployflow, a SQLite database in the instance folder (a shared dir) and a CLI
command that migrates it."""

import sqlite3
from pathlib import Path

import click
from flask import Flask, g, jsonify, request

SCHEMA = [
    "CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)",
]


def read_env(path):
    values = {}
    for line in path.read_text().splitlines():
        if "=" in line and not line.lstrip().startswith("#"):
            key, value = line.split("=", 1)
            values[key.strip()] = value.strip()
    return values


def create_app(root=None):
    root = Path(root or Path.cwd())
    app = Flask(__name__, instance_path=str(root / "instance"))
    env = read_env(root / ".env")
    app.config.update(
        RELEASE=env.get("RELEASE", "dev"),
        GREETING=env.get("GREETING", "hello"),
        DATABASE=str(root / "instance" / env.get("DB_FILE", "notes.sqlite")),
        VERSION=(root / "VERSION").read_text().strip(),
    )

    def db():
        if "db" not in g:
            g.db = sqlite3.connect(app.config["DATABASE"])
        return g.db

    @app.teardown_appcontext
    def close(_exc):
        conn = g.pop("db", None)
        if conn is not None:
            conn.close()

    @app.get("/health")
    def health():
        count = db().execute("SELECT COUNT(*) FROM notes").fetchone()[0]
        return jsonify(
            status="ok",
            release=app.config["RELEASE"],
            version=app.config["VERSION"],
            greeting=app.config["GREETING"],
            notes=count,
        )

    @app.post("/notes")
    def add_note():
        body = request.get_json(force=True)["body"]
        conn = db()
        conn.execute("INSERT INTO notes (body) VALUES (?)", (body,))
        conn.commit()
        return jsonify(ok=True), 201

    @app.get("/notes")
    def list_notes():
        rows = db().execute("SELECT body FROM notes ORDER BY id").fetchall()
        return jsonify([r[0] for r in rows])

    @app.cli.command("init-db")
    def init_db():
        """Create or migrate the SQLite database (idempotent)."""
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(app.config["DATABASE"])
        for statement in SCHEMA:
            conn.execute(statement)
        conn.commit()
        conn.close()
        click.echo(f"database ready: {app.config['DATABASE']}")

    return app
