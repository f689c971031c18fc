"""What the daemon remembers across restarts that is not delivery: today's totals per exercise, and the last sets.

Its own SQLite file (``state.sqlite3`` in ``state.dir``), apart from the MQTT outbox, so the
day's count survives a restart whether MQTT is on or off. Old days are pruned: the store
stays small on a box that runs for months.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
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
"""
KEEP_SETS = 100  # finished sets kept (the live page lists the last few)


def open_db(path: Path, what: str) -> sqlite3.Connection:
    """A SQLite file for one of the daemon's stores, its folder made; a clear error naming state.dir otherwise."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")  # what the counter was told is stored is on disk
        return db
    except (OSError, sqlite3.Error) as e:
        reason = getattr(e, "strerror", None) or str(e)
        raise UserError(f"state.dir: cannot open the {what} {path}: {reason}") from None


class StateStore:
    """``StateStore(path).open()``: the constructor only names the file; ``open()`` opens it (a one-line error naming
    state.dir where it cannot), ``close()`` closes it."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._db: sqlite3.Connection = None  # type: ignore[assignment]  # open() makes it
        self._lock = threading.Lock()

    def open(self) -> StateStore:
        self._db = open_db(self.path, "state store")
        self._db.executescript(SCHEMA)
        return self

    def totals(self, day: str) -> dict[str, int]:
        """The day's totals per exercise (``day`` as YYYY-MM-DD); empty for a day not seen."""
        with self._lock:
            row = self._db.execute("SELECT by_exercise FROM totals WHERE day = ?", (day,)).fetchone()
        return json.loads(row[0]) if row else {}

    def save_totals(self, day: str, by_exercise: dict[str, int]) -> None:
        with self._lock:
            self._db.execute("INSERT INTO totals (day, by_exercise) VALUES (?, ?) "
                             "ON CONFLICT(day) DO UPDATE SET by_exercise = excluded.by_exercise",
                             (day, json.dumps(by_exercise, sort_keys=True)))
            self._db.execute("DELETE FROM totals WHERE day NOT IN (SELECT day FROM totals ORDER BY day DESC LIMIT ?)", (KEEP_DAYS,))

    def add_set(self, row: dict) -> None:
        """A finished set (``live.view.set_row``), so the live page lists it after a restart too."""
        with self._lock:
            self._db.execute("INSERT INTO sets (ended, exercise, reps, duration_s) VALUES (?, ?, ?, ?)",
                             (row["ended"], row["exercise"], row["reps"], row["duration_s"]))
            self._db.execute("DELETE FROM sets WHERE rowid NOT IN (SELECT rowid FROM sets ORDER BY ended DESC LIMIT ?)",
                             (KEEP_SETS,))

    def last_sets(self, n: int) -> list[dict]:
        """The ``n`` sets that ended last, newest first."""
        with self._lock:
            rows = self._db.execute("SELECT ended, exercise, reps, duration_s FROM sets ORDER BY ended DESC LIMIT ?",
                                    (n,)).fetchall()
        return [{"exercise": ex, "reps": reps, "duration_s": d, "ended": ended} for ended, ex, reps, d in rows]

    def close(self) -> None:
        with self._lock:
            self._db.close()
