import sqlite3
from pathlib import Path

from fastapi import FastAPI
from pydantic import BaseModel

DB = Path(__file__).with_name("app.db")

app = FastAPI(title="Full-stack app API", docs_url="/api/docs", openapi_url="/api/openapi.json")


def connect() -> sqlite3.Connection:
    connection = sqlite3.connect(DB)
    connection.execute("CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL)")
    return connection


class Note(BaseModel):
    id: int
    text: str


@app.get("/api/notes", summary="Every note, oldest first")
def notes() -> list[Note]:
    with connect() as db:
        rows = db.execute("SELECT id, text FROM notes ORDER BY id").fetchall()
    return [Note(id=row[0], text=row[1]) for row in rows]
