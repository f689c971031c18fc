"""The outbox: every event is written to SQLite before it is published, and marked delivered when
the broker acknowledges it, so a counted rep survives a broker outage, a crash or a restart.

``seq`` is assigned here (``record``: the pipeline numbers each event through it, once) and only
grows, across restarts too, so subscribers can drop the duplicates that at-least-once delivery brings. The store is bounded by count and by
age; whatever a bound drops is logged and counted, never silent. Where the disk refuses a write (full,
read-only), the events wait in memory, bounded, are published from there all the same, and are written
when the disk takes them again: counting never stops for it. Today's totals are not delivery: they live
in the state store (``state.py``), which keeps the high-water mark of ``seq`` too, so that an outbox
emptied or deleted never numbers from 1 again (``go_on_from``).
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
from .db import open_db, transaction

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
                 max_age_s: float = _LIMITS.outbox_max_age_days * 86400, max_unwritten: int = _LIMITS.max_unwritten) -> None:
        """``Outbox(path).open()``: the constructor only sets the bounds; ``open()`` opens the file."""
        self.path = Path(path)
        self.max_events = max_events
        self.max_age_s = max_age_s
        self.max_unwritten = max_unwritten
        # One connection shared by the pipeline and paho's network thread, serialised by a lock.
        self._db: sqlite3.Connection = None  # type: ignore[assignment]  # open() makes it
        self._lock = threading.Lock()
        self.dropped = 0
        self._last = 0  # the last seq given: only grows
        self._unwritten: dict[int, tuple[str, str, float]] = {}  # seq -> topic, payload, created: not on disk yet
        self._failing: str | None = None  # why the last write failed

    def open(self) -> Outbox:
        self._db = open_db(self.path, "MQTT outbox")
        self._db.executescript(SCHEMA)
        self.dropped = int(self._meta("dropped", "0"))
        self._last = int(self._meta("last_seq", "0"))
        return self

    def _meta(self, key: str, default: str) -> str:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def _set_meta(self, key: str, value: str) -> None:
        self._db.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", (key, value))

    def go_on_from(self, seq: int, source: str) -> None:
        """Number on from ``seq`` at least: the high-water mark another store kept (``source`` names it), where this
        file lost its own (emptied, deleted)."""
        with self._lock:
            if seq > self._last:
                log.warning("%s: seq was %d, but %s has seen %d: this file was emptied or replaced; numbering goes on "
                            "from %d, so subscribers never see a seq again", self.path, self._last, source, seq, seq + 1)
                self._last = seq
                self._flush()

    def record(self, event: Event) -> Event:
        """A published event (a rep, a set's end) stored under the next ``seq``, and returned numbered; any other
        event is returned as it is (the log shows it; it takes no number from the ones subscribers see)."""
        topic = topic_of(event)
        if topic is None:
            return event
        seq = self.add(topic, lambda n: event.numbered(n).to_json())
        return event.numbered(seq)

    def add(self, topic: str, make_payload) -> int:
        """Store an event under the next ``seq`` (``make_payload(seq)`` returns its JSON text). Where the disk refuses
        it, it is kept in memory (``unwritten``) and written with the next write that succeeds: counting goes on."""
        with self._lock:
            self._last += 1
            seq = self._last
            self._unwritten[seq] = (topic, make_payload(seq), time.time())
            self._flush()
            return seq

    def retry(self) -> None:
        """Write what the disk refused before (called every few seconds while there is any)."""
        with self._lock:
            if self._unwritten or self._failing:
                self._flush()

    def _flush(self) -> None:
        """Everything not on disk yet, and the high-water mark, in one transaction; held in memory where it fails."""
        try:
            with transaction(self._db):
                self._db.executemany("INSERT OR IGNORE INTO events (seq, topic, payload, created) VALUES (?, ?, ?, ?)",
                                     [(seq, *row) for seq, row in self._unwritten.items()])
                self._set_meta("last_seq", str(self._last))
                self._set_meta("dropped", str(self.dropped))
        except sqlite3.Error as e:
            self._hold(str(e))
            return
        if self._failing:
            log.warning("outbox %s: writing again; the %d events held in memory are on disk", self.path, len(self._unwritten))
        self._failing = None
        self._unwritten.clear()
        try:
            self._enforce_bounds()
        except sqlite3.Error as e:  # the events are stored; old ones go at the next write
            log.warning("outbox %s: cannot prune old events now: %s", self.path, e)

    def _hold(self, why: str) -> None:
        over = len(self._unwritten) - self.max_unwritten
        if over > 0:
            for seq in list(self._unwritten)[:over]:
                del self._unwritten[seq]
            self.dropped += over
            log.error("outbox %s: %d events held in memory are dropped (state.max_unwritten)", self.path, over)
        if self._failing != why:
            log.error("outbox %s: cannot write (%s): %d events held in memory until it can (a SIGKILL or a power cut "
                      "loses them); counting goes on", self.path, why, len(self._unwritten))
        self._failing = why

    @property
    def unwritten(self) -> int:
        """Events numbered but not yet on disk."""
        with self._lock:
            return len(self._unwritten)

    @property
    def last_seq(self) -> int:
        with self._lock:
            return self._last

    def pending(self, limit: int = 1000, after: int = 0) -> list[Pending]:
        """Undelivered events after ``seq`` ``after``, oldest first, at most ``limit`` (a page): on disk or held."""
        with self._lock:
            try:
                rows = self._db.execute("SELECT seq, topic, payload FROM events WHERE delivered IS NULL AND seq > ? "
                                        "ORDER BY seq LIMIT ?", (after, limit)).fetchall()
            except sqlite3.Error as e:
                self._hold(str(e))
                rows = []
            held = [(seq, topic, payload) for seq, (topic, payload, _) in self._unwritten.items() if seq > after]
        return [Pending(*r) for r in sorted({r[0]: r for r in rows + held}.values())[:limit]]

    def pending_count(self) -> int:
        with self._lock:
            try:
                n: int = self._db.execute("SELECT COUNT(*) FROM events WHERE delivered IS NULL").fetchone()[0]
            except sqlite3.Error:
                n = 0
            return n + len(self._unwritten)

    def mark_delivered(self, seq: int) -> None:
        with self._lock:
            if self._unwritten.pop(seq, None) is not None:
                return  # delivered before the disk took it: nothing left to keep
            try:
                self._db.execute("UPDATE events SET delivered = ? WHERE seq = ? AND delivered IS NULL", (time.time(), seq))
            except sqlite3.Error as e:  # it stays undelivered on disk: sent again later, a duplicate subscribers drop
                self._hold(str(e))

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
            if self._unwritten:
                self._flush()
            if self._unwritten:
                log.error("outbox %s: %d events never reached the disk (%s) and are lost with this stop", self.path,
                          len(self._unwritten), self._failing)
            self._db.close()
