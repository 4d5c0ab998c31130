"""The woosoo API: a tiny ASGI app (run by uvicorn) that reads its rendered .env."""

import json
from pathlib import Path

import pymysql

HERE = Path(__file__).resolve().parent


def read_env(path):
    values = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            values[key.strip()] = value.strip()
    return values


ENV = read_env(HERE / ".env")
REVISION = HERE.parent / "REVISION"
RELEASE = REVISION.read_text().strip() if REVISION.is_file() else "dev"
VERSION = (HERE / "VERSION").read_text().strip()


def connect():
    return pymysql.connect(
        host=ENV["DB_HOST"],
        port=int(ENV["DB_PORT"]),
        user=ENV["DB_USERNAME"],
        password=ENV["DB_PASSWORD"],
        database=ENV["DB_DATABASE"],
        connect_timeout=3,
    )


def health():
    try:
        conn = connect()
        with conn.cursor() as cur:
            cur.execute("SELECT 1")
        conn.close()
        db = "ok"
    except pymysql.MySQLError as exc:
        db = f"error: {exc.args[-1]}"
    body = {"status": "ok" if db == "ok" else "degraded", "release": RELEASE, "version": VERSION, "db": db}
    return (200 if db == "ok" else 503), body


def devices():
    conn = connect()
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT id, name, status FROM devices ORDER BY id")
            rows = cur.fetchall()
    finally:
        conn.close()
    return 200, [{"id": r[0], "name": r[1], "status": r[2]} for r in rows]


ROUTES = {"/api/health": health, "/api/devices": devices}


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    handler = ROUTES.get(scope["path"])
    if handler is None:
        status, body = 404, {"error": "not found"}
    else:
        try:
            status, body = handler()
        except pymysql.MySQLError as exc:
            status, body = 503, {"error": str(exc.args[-1])}
    payload = json.dumps(body).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})
