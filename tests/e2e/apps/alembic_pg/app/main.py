"""The service: /health reports the release and the database; /items lists what is stored."""

import os
from pathlib import Path

from fastapi import FastAPI
from sqlalchemy import create_engine, text

engine = create_engine(os.environ["DATABASE_URL"], pool_pre_ping=True)
app = FastAPI()


@app.get("/health")
def health() -> dict:
    with engine.connect() as conn:
        count = conn.execute(text("SELECT count(*) FROM items")).scalar_one()
    release = Path.cwd().parent.name  # it runs in releases/<id>/<app>
    return {"release": release, "db": "ok", "items": count}


@app.get("/items")
def items() -> list[dict]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT id, name FROM items ORDER BY id")).all()
    return [{"id": row.id, "name": row.name} for row in rows]
