"""The outbox: every event is written to SQLite before it is published, and marked delivered when
the broker acknowledges it, so a counted rep survives a broker outage, a crash or a restart.

``seq`` is assigned here (``record``: the pipeline numbers each event through it, once) and only
grows, across restarts too, so subscribers can drop the duplicates that at-least-once delivery brings. The store is bounded by count and by
age; whatever a bound drops is logged and counted, never silent. Today's totals are not
delivery: they live in the state store (``state.py``).
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from ..config.settings import StateConfig
from ..counting.events import Event, topic_of
from .state import open_db

_LIMITS = StateConfig()  # the bounds' defaults are the config's

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY,
    topic TEXT NOT NULL,
    payload TEXT NOT NULL,
    created REAL NOT NULL,
    delivered REAL
);
CREATE INDEX IF NOT EXISTS pending ON events (delivered, seq);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


@dataclass(frozen=True)
class Pending:
    seq: int
    topic: str  # under the prefix ("reps", "sets"); versions before 2026-11-29 stored the whole topic
    payload: str

    @property
    def suffix(self) -> str:
        """The topic under whatever prefix is configured now (a prefix changed by a reload applies to the backlog)."""
        return self.topic.rsplit("/", 1)[-1]


class Outbox:
    def __init__(self, path: Path, max_events: int = _LIMITS.outbox_max_events,
                 max_age_s: float = _LIMITS.outbox_max_age_days * 86400) -> None:
        """``Outbox(path).open()``: the constructor only sets the bounds; ``open()`` opens the file."""
        self.path = Path(path)
        self.max_events = max_events
        self.max_age_s = max_age_s
        # One connection shared by the pipeline and paho's network thread, serialised by a lock.
        self._db: sqlite3.Connection = None  # type: ignore[assignment]  # open() makes it
        self._lock = threading.Lock()
        self.dropped = 0

    def open(self) -> Outbox:
        self._db = open_db(self.path, "MQTT outbox")
        self._db.executescript(SCHEMA)
        self.dropped = int(self._meta("dropped", "0"))
        return self

    def _meta(self, key: str, default: str) -> str:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def _set_meta(self, key: str, value: str) -> None:
        self._db.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", (key, value))

    def record(self, event: Event) -> Event:
        """A published event (a rep, a set's end) stored under the next ``seq``, and returned numbered; any other
        event is returned as it is (the log shows it; it takes no number from the ones subscribers see)."""
        topic = topic_of(event)
        if topic is None:
            return event
        seq = self.add(topic, lambda n: event.numbered(n).to_json())
        return event.numbered(seq)

    def add(self, topic: str, make_payload) -> int:
        """Store an event under the next ``seq``; ``make_payload(seq)`` returns its JSON text."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                last = int(self._meta("last_seq", "0"))
                seq = last + 1
                self._db.execute("INSERT INTO events (seq, topic, payload, created) VALUES (?, ?, ?, ?)",
                                 (seq, topic, make_payload(seq), time.time()))
                self._set_meta("last_seq", str(seq))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._enforce_bounds()
            return seq

    @property
    def last_seq(self) -> int:
        with self._lock:
            return int(self._meta("last_seq", "0"))

    def pending(self, limit: int = 1000, after: int = 0) -> list[Pending]:
        """Undelivered events after ``seq`` ``after``, oldest first, at most ``limit`` (a page)."""
        with self._lock:
            rows = self._db.execute("SELECT seq, topic, payload FROM events WHERE delivered IS NULL AND seq > ? ORDER BY seq LIMIT ?",
                                    (after, limit)).fetchall()
        return [Pending(*r) for r in rows]

    def pending_count(self) -> int:
        with self._lock:
            n: int = self._db.execute("SELECT COUNT(*) FROM events WHERE delivered IS NULL").fetchone()[0]
            return n

    def mark_delivered(self, seq: int) -> None:
        with self._lock:
            self._db.execute("UPDATE events SET delivered = ? WHERE seq = ? AND delivered IS NULL", (time.time(), seq))

    def _enforce_bounds(self) -> None:
        """Delivered events older than a day go quietly; undelivered ones past a bound are dropped and counted."""
        now = time.time()
        self._db.execute("DELETE FROM events WHERE delivered IS NOT NULL AND delivered < ?", (now - 86400,))
        too_old = self._db.execute("SELECT COUNT(*) FROM events WHERE delivered IS NULL AND created < ?", (now - self.max_age_s,
                                                                                                           )).fetchone()[0]
        n = self._db.execute("SELECT COUNT(*) FROM events WHERE delivered IS NULL").fetchone()[0]
        over = max(0, n - too_old - self.max_events)
        if too_old or over:
            self._db.execute("DELETE FROM events WHERE delivered IS NULL AND created < ?", (now - self.max_age_s,))
            self._db.execute("DELETE FROM events WHERE seq IN (SELECT seq FROM events WHERE delivered IS NULL ORDER BY seq LIMIT ?)",
                             (over,))
            self.dropped += too_old + over
            self._set_meta("dropped", str(self.dropped))
            log.warning("outbox full: dropped %d undelivered events (%d too old, %d over the bound of %d); %d dropped in all",
                        too_old + over, too_old, over, self.max_events, self.dropped)

    def close(self) -> None:
        with self._lock:
            self._db.close()
