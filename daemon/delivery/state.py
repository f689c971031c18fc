"""What the daemon remembers across restarts that is not delivery: today's totals per exercise, the last sets, and
the highest ``seq`` given (so that an emptied outbox never numbers from 1 again).

Its own SQLite file (``state.sqlite3`` in ``state.dir``), apart from the MQTT outbox, so the
day's count survives a restart whether MQTT is on or off. Old days are pruned: the store
stays small on a box that runs for months.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from homegym.core.errors import UserError

log = logging.getLogger(__name__)

KEEP_DAYS = 31  # days of totals kept (a month of history; older ones are deleted)

SCHEMA = """
CREATE TABLE IF NOT EXISTS totals (
    day TEXT PRIMARY KEY,
    by_exercise TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sets (
    ended REAL NOT NULL,
    exercise TEXT NOT NULL,
    reps INTEGER NOT NULL,
    duration_s REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
KEEP_SETS = 100  # finished sets kept (the live page lists the last few)


def open_db(path: Path, what: str, schema: str) -> sqlite3.Connection:
    """A SQLite file for one of the daemon's stores, its folder made, readable by this user alone (like the token:
    it holds what was done when); a clear error naming state.dir otherwise."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
        if path.stat().st_mode & 0o077:
            path.chmod(0o600)  # made by an older version, or under another umask
        db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")  # what the counter was told is stored is on disk
        db.executescript(schema)
        return db
    except (OSError, sqlite3.Error) as e:
        reason = getattr(e, "strerror", None) or str(e)
        if isinstance(e, sqlite3.DatabaseError) and not isinstance(e, sqlite3.OperationalError):  # not SQLite's
            raise UserError(f"state.dir: the {what} {path} cannot be used ({e}): move it away, and a new one is made") from None
        raise UserError(f"state.dir: cannot open the {what} {path}: {reason}") from None


@contextmanager
def transaction(db: sqlite3.Connection) -> Iterator[None]:
    """One write transaction: committed, or rolled back where SQLite has not already ended it (a full disk does)."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise


class StateStore:
    """``StateStore(path).open()``: the constructor only names the file; ``open()`` opens it (a one-line error naming
    state.dir where it cannot), ``close()`` closes it. A write the disk refuses (full, read-only) waits in memory
    and goes with the next one that succeeds (``retry``): the counter never stops for it."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._db: sqlite3.Connection = None  # type: ignore[assignment]  # open() makes it
        self._lock = threading.Lock()
        self.last_seq = 0  # the highest seq an event published was given (the outbox's own may be lost)
        self.found_empty = False  # a new or emptied file
        self._totals: dict[str, dict[str, int]] = {}  # day -> totals not on disk yet
        self._sets: list[dict] = []  # finished sets not on disk yet
        self._failing: str | None = None

    def open(self) -> StateStore:
        self._db = open_db(self.path, "state store", SCHEMA)
        row = self._db.execute("SELECT value FROM meta WHERE key = 'last_seq'").fetchone()
        self.last_seq = int(row[0]) if row else 0
        self.found_empty = self._db.execute("SELECT (SELECT COUNT(*) FROM totals) + (SELECT COUNT(*) FROM meta)").fetchone()[0] == 0
        return self

    def totals(self, day: str) -> dict[str, int]:
        """The day's totals per exercise (``day`` as YYYY-MM-DD); empty for a day not seen."""
        with self._lock:
            if day in self._totals:
                return dict(self._totals[day])
            row = self._db.execute("SELECT by_exercise FROM totals WHERE day = ?", (day,)).fetchone()
        return json.loads(row[0]) if row else {}

    def save(self, day: str, by_exercise: dict[str, int] | None = None, set_row: dict | None = None, seq: int = 0) -> None:
        """The day's totals, a finished set (``live.view.set_row``) and the last ``seq``, written together."""
        with self._lock:
            if by_exercise is not None:
                self._totals[day] = dict(by_exercise)
            if set_row is not None:
                self._sets = (self._sets + [set_row])[-KEEP_SETS:]
            self.last_seq = max(self.last_seq, seq)
            self._flush()

    def retry(self) -> None:
        with self._lock:
            if self._failing:
                self._flush()

    @property
    def unwritten(self) -> int:
        """Writes (a day's totals, a set) not on disk yet."""
        with self._lock:
            return len(self._totals) + len(self._sets) if self._failing else 0

    def _flush(self) -> None:
        try:
            with transaction(self._db):
                self._db.executemany("INSERT INTO totals (day, by_exercise) VALUES (?, ?) "
                                     "ON CONFLICT(day) DO UPDATE SET by_exercise = excluded.by_exercise",
                                     [(day, json.dumps(t, sort_keys=True)) for day, t in self._totals.items()])
                self._db.executemany("INSERT INTO sets (ended, exercise, reps, duration_s) VALUES (?, ?, ?, ?)",
                                     [(r["ended"], r["exercise"], r["reps"], r["duration_s"]) for r in self._sets])
                self._db.execute("INSERT INTO meta (key, value) VALUES ('last_seq', ?) "
                                 "ON CONFLICT(key) DO UPDATE SET value = MAX(CAST(value AS INTEGER), excluded.value)",
                                 (self.last_seq,))
                self._db.execute("DELETE FROM totals WHERE day NOT IN (SELECT day FROM totals ORDER BY day DESC LIMIT ?)",
                                 (KEEP_DAYS,))
                self._db.execute("DELETE FROM sets WHERE rowid NOT IN (SELECT rowid FROM sets ORDER BY ended DESC LIMIT ?)",
                                 (KEEP_SETS,))
        except sqlite3.Error as e:
            if self._failing != str(e):
                log.error("state store %s: cannot write (%s): today's totals and the last sets are kept in memory until "
                          "it can; counting goes on", self.path, e)
            self._failing = str(e)
            return
        if self._failing:
            log.warning("state store %s: writing again", self.path)
        self._failing = None
        self._totals.clear()
        self._sets.clear()

    def last_sets(self, n: int) -> list[dict]:
        """The ``n`` sets that ended last, newest first."""
        with self._lock:
            rows = self._db.execute("SELECT ended, exercise, reps, duration_s FROM sets ORDER BY ended DESC LIMIT ?",
                                    (n,)).fetchall()
            held = list(self._sets)
        saved = [{"exercise": ex, "reps": reps, "duration_s": d, "ended": ended} for ended, ex, reps, d in rows]
        return sorted(saved + held, key=lambda r: r["ended"], reverse=True)[:n]

    def close(self) -> None:
        with self._lock:
            if self._failing:
                self._flush()
            self._db.close()
