"""The state store's tables, their version, and the upgrade of an older file.

``meta.schema_version`` says which tables a file holds. A file without it is version 1 (before
2026-12-07: the last 100 sets without an id, 31 days of totals); it is upgraded in place, in one
transaction, keeping every row. A file of a newer version, or a SQLite file of another program,
is refused in one line and left as it is.
"""

from __future__ import annotations

import sqlite3

from homegym.core.errors import UserError

from .db import transaction

VERSION = 2
TABLES = {"totals", "sets", "meta"}

CREATE = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS totals (
    day TEXT PRIMARY KEY,
    by_exercise TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sets (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    day TEXT NOT NULL,
    ended REAL NOT NULL,
    exercise TEXT NOT NULL,
    reps INTEGER NOT NULL,
    duration_s REAL NOT NULL,
    partials INTEGER NOT NULL DEFAULT 0,
    measures TEXT
);
CREATE INDEX IF NOT EXISTS sets_by_end ON sets (ended);
CREATE INDEX IF NOT EXISTS sets_by_day ON sets (day);
"""

V1_TO_V2 = """
ALTER TABLE sets RENAME TO sets_v1;
{create}
INSERT INTO sets (day, ended, exercise, reps, duration_s)
    SELECT date(ended, 'unixepoch', 'localtime'), ended, exercise, reps, duration_s FROM sets_v1 ORDER BY ended;
DROP TABLE sets_v1;
"""


def check(db: sqlite3.Connection, path: object) -> int:
    """The version a file holds (0: new), read before anything is written to it; a file of another program or of a
    newer version refused."""
    tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")} - {"sqlite_sequence"}
    if tables and not tables & TABLES:
        raise UserError(f"state.dir: {path} is not a HomeGym state store (its tables: {', '.join(sorted(tables))[:200]}): "
                        "move it away, and a new one is made; nothing was changed")
    found = 0
    if "meta" in tables:
        row = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        found = int(row[0]) if row else 1
    elif tables:
        found = 1
    if found > VERSION:
        raise UserError(f"state.dir: {path} was written by a newer HomeGym (its schema {found}, this one knows {VERSION}): "
                        "upgrade homegym; nothing was changed")
    return found


def upgrade(db: sqlite3.Connection, found: int) -> None:
    """The tables made (``found`` 0) or upgraded from ``found`` to ``VERSION``, in one transaction."""
    if found == VERSION:
        return
    script = CREATE
    if found == 1 and db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sets'").fetchone():
        script = V1_TO_V2.format(create=CREATE)
    with transaction(db):
        for statement in script.split(";"):
            if statement.strip():
                db.execute(statement)
        db.execute("INSERT INTO meta (key, value) VALUES ('schema_version', ?) "
                   "ON CONFLICT(key) DO UPDATE SET value = excluded.value", (str(VERSION),))
