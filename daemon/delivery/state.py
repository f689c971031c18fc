"""What the daemon remembers across restarts that is not delivery: today's totals per exercise, the last sets, and
the highest ``seq`` given (so that an emptied outbox never numbers from 1 again).

Its own SQLite file (``state.sqlite3`` in ``state.dir``), apart from the MQTT outbox, so the
day's count survives a restart whether MQTT is on or off. It is the history too: every day's
totals and every set for more than a year (``KEEP_S``), older ones pruned, so the file stays a
few MB on a box that runs for years. Its tables and their upgrades: ``schema.py``.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from pathlib import Path

from . import schema
from .db import open_db, transaction

log = logging.getLogger(__name__)

KEEP_S = 400 * 86400  # days' totals and sets kept: more than a year of history (7,300 sets, 20 a day, are about 2 MB)
HELD_SETS = 1000  # finished sets held in memory while the disk refuses them
SET_COLUMNS = ("id", "day", "ended", "exercise", "reps", "duration_s", "partials", "measures")


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
        self.upgraded_from = 0  # the schema the file had (0: new)

    def open(self) -> StateStore:
        found: list[int] = []
        self._db = open_db(self.path, "state store", lambda db: found.append(schema.check(db, self.path)))
        self.upgraded_from = found[0]
        try:
            schema.upgrade(self._db, self.upgraded_from)
        except BaseException:
            self._db.close()
            raise
        if 0 < self.upgraded_from < schema.VERSION:
            log.info("state store %s upgraded from schema %d to %d", self.path, self.upgraded_from, schema.VERSION)
        row = self._db.execute("SELECT value FROM meta WHERE key = 'last_seq'").fetchone()
        self.last_seq = int(row[0]) if row else 0
        self.found_empty = not row and self._db.execute("SELECT COUNT(*) FROM totals").fetchone()[0] == 0
        return self

    def totals(self, day: str) -> dict[str, int]:
        """The day's totals per exercise (``day`` as YYYY-MM-DD); empty for a day not seen."""
        with self._lock:
            if day in self._totals:
                return dict(self._totals[day])
            row = self._db.execute("SELECT by_exercise FROM totals WHERE day = ?", (day,)).fetchone()
        return json.loads(row[0]) if row else {}

    def save(self, day: str, by_exercise: dict[str, int] | None = None, set_row: dict | None = None, seq: int = 0) -> None:
        """The day's totals, a finished set (``live.view.set_row``: its day, end, exercise, reps, duration, and
        optionally partials and measures) and the last ``seq``, written together."""
        with self._lock:
            if by_exercise is not None:
                self._totals[day] = dict(by_exercise)
            if set_row is not None:
                self._sets = (self._sets + [dict(set_row, day=set_row.get("day", day))])[-HELD_SETS:]
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
                self._db.executemany("INSERT INTO sets (day, ended, exercise, reps, duration_s, partials, measures) "
                                     "VALUES (?, ?, ?, ?, ?, ?, ?)",
                                     [(r["day"], r["ended"], r["exercise"], r["reps"], r["duration_s"], r.get("partials", 0),
                                       json.dumps(r["measures"]) if r.get("measures") else None) for r in self._sets])
                self._db.execute("INSERT INTO meta (key, value) VALUES ('last_seq', ?) "
                                 "ON CONFLICT(key) DO UPDATE SET value = MAX(CAST(value AS INTEGER), excluded.value)",
                                 (self.last_seq,))
                oldest = time.strftime("%Y-%m-%d", time.localtime(time.time() - KEEP_S))
                self._db.execute("DELETE FROM totals WHERE day < ?", (oldest,))
                self._db.execute("DELETE FROM sets WHERE day < ?", (oldest,))
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
        """The ``n`` sets that ended last, newest first (``id`` None for one the disk has not taken yet)."""
        with self._lock:
            rows = self._db.execute(f"SELECT {', '.join(SET_COLUMNS)} FROM sets ORDER BY ended DESC LIMIT ?", (n,)).fetchall()
            held = [dict(r, id=None) for r in self._sets]
        saved = [set_of(row) for row in rows]
        return sorted(saved + held, key=lambda r: r["ended"], reverse=True)[:n]

    def days(self, since: str = "") -> dict[str, dict[str, int]]:
        """Every day's totals from ``since`` (YYYY-MM-DD) on, oldest first; a day of no reps is absent."""
        with self._lock:
            rows = self._db.execute("SELECT day, by_exercise FROM totals WHERE day >= ? ORDER BY day", (since,)).fetchall()
            held = dict(self._totals)
        out = {day: json.loads(t) for day, t in rows}
        out.update({day: t for day, t in held.items() if day >= since})
        return {day: t for day, t in sorted(out.items()) if any(t.values())}

    def sets(self, since: str = "") -> list[dict]:
        """Every set from ``since`` on, oldest first."""
        with self._lock:
            rows = self._db.execute(f"SELECT {', '.join(SET_COLUMNS)} FROM sets WHERE day >= ? ORDER BY ended",
                                    (since,)).fetchall()
            held = [dict(r, id=None) for r in self._sets if r["day"] >= since]
        return sorted([set_of(row) for row in rows] + held, key=lambda r: r["ended"])

    def delete_set(self, set_id: int) -> dict | None:
        """Forget a set (a false one, someone else's): its row goes, and its reps leave its day's totals. The set as it
        was, or None where there is no such set."""
        with self._lock:
            row = self._db.execute(f"SELECT {', '.join(SET_COLUMNS)} FROM sets WHERE id = ?", (set_id,)).fetchone()
            if row is None:
                return None
            gone = set_of(row)
            day = gone["day"]
            totals = self._totals.get(day)
            if totals is None:
                saved = self._db.execute("SELECT by_exercise FROM totals WHERE day = ?", (day,)).fetchone()
                totals = json.loads(saved[0]) if saved else {}
            totals[gone["exercise"]] = max(0, totals.get(gone["exercise"], 0) - gone["reps"])
            with transaction(self._db):
                self._db.execute("DELETE FROM sets WHERE id = ?", (set_id,))
                self._db.execute("INSERT INTO totals (day, by_exercise) VALUES (?, ?) "
                                 "ON CONFLICT(day) DO UPDATE SET by_exercise = excluded.by_exercise",
                                 (day, json.dumps(totals, sort_keys=True)))
            self._totals.pop(day, None)
        log.info("set %d deleted: %d %s on %s; that day's totals are now %s", set_id, gone["reps"], gone["exercise"], day, totals)
        return gone

    def close(self) -> None:
        with self._lock:
            if self._failing:
                self._flush()
            self._db.close()


def set_of(row: tuple) -> dict:
    """A ``sets`` row as the page, the history and the API show it."""
    d = dict(zip(SET_COLUMNS, row))
    d["measures"] = json.loads(d["measures"]) if d["measures"] else None
    return d
