"""The outbox on its own: seq across reopen, delivery marks, bounds that drop loudly."""

from __future__ import annotations

import logging
import time

from homegym.daemon.delivery.outbox import Outbox


def test_seq_grows_across_restarts_and_pending_is_in_order(tmp_path) -> None:
    db = tmp_path / "o.sqlite3"
    box = Outbox(db).open()
    seqs = [box.add("gym/reps", lambda s: f'{{"seq":{s}}}') for _ in range(3)]
    assert seqs == [1, 2, 3]
    box.mark_delivered(2)
    box.close()
    box = Outbox(db).open()  # a restart
    assert [p.seq for p in box.pending()] == [1, 3] and box.pending()[0].payload == '{"seq":1}'
    assert box.add("gym/reps", str) == 4 and box.last_seq == 4
    box.mark_delivered(1)
    box.mark_delivered(1)  # a duplicate PUBACK changes nothing
    assert [p.seq for p in box.pending()] == [3, 4]


def test_bounds_drop_the_oldest_undelivered_and_say_so(tmp_path, caplog) -> None:
    box = Outbox(tmp_path / "o.sqlite3", max_events=5, max_age_s=3600).open()
    with caplog.at_level(logging.WARNING):
        for _ in range(8):
            box.add("gym/reps", str)
    assert [p.seq for p in box.pending()] == [4, 5, 6, 7, 8]
    assert box.dropped == 3 and "dropped" in caplog.text
    old = Outbox(tmp_path / "old.sqlite3", max_events=100, max_age_s=0.05).open()
    old.add("gym/reps", str)
    time.sleep(0.1)
    old.add("gym/reps", str)
    assert [p.seq for p in old.pending()] == [2] and old.dropped == 1
    box.close()
    assert Outbox(tmp_path / "o.sqlite3").open().dropped == 3  # the count survives a restart too


def _fill_up(box: Outbox) -> None:
    """SQLite's own "database or disk is full" from now on (its page limit at the file's size): what a full disk gives."""
    pages = box._db.execute("PRAGMA page_count").fetchone()[0]
    box._db.execute(f"PRAGMA max_page_count = {pages}")


def test_a_full_disk_holds_events_in_memory_publishes_them_and_writes_them_when_it_can(tmp_path, caplog) -> None:
    box = Outbox(tmp_path / "o.sqlite3", max_unwritten=500).open()
    box.add("reps", str)
    _fill_up(box)
    with caplog.at_level(logging.ERROR):
        seqs = [box.add("reps", lambda s: f'{{"seq":{s},"pad":"{"x" * 300}"}}') for _ in range(100)]
    assert seqs == list(range(2, 102)), "numbering goes on"
    assert box.unwritten > 0 and "cannot write" in caplog.text and "database or disk is full" in caplog.text
    assert caplog.text.count("cannot write") == 1, "said once, not at every event"
    assert [p.seq for p in box.pending()] == list(range(1, 102)), "what is held is published all the same"
    box.mark_delivered(101)  # acknowledged from memory: nothing left to keep of it
    box._db.execute("PRAGMA max_page_count = 1000000")  # the disk has room again
    box.retry()
    assert box.unwritten == 0 and [p.seq for p in box.pending()][-1] == 100
    box.close()
    again = Outbox(tmp_path / "o.sqlite3").open()
    assert again.last_seq == 101 and again.pending_count() == 100


def test_held_events_are_bounded_and_what_goes_is_counted(tmp_path) -> None:
    box = Outbox(tmp_path / "o.sqlite3", max_unwritten=10).open()
    box.add("reps", str)
    _fill_up(box)
    for _ in range(200):
        box.add("reps", lambda s: f'{{"seq":{s},"pad":"{"x" * 300}"}}')
    assert box.unwritten <= 10 and box.dropped >= 190 - 20 and box.last_seq == 201


def test_an_emptied_outbox_numbers_on_from_the_state_stores_mark(tmp_path, caplog) -> None:
    db = tmp_path / "o.sqlite3"
    box = Outbox(db).open()
    for _ in range(5):
        box.add("reps", str)
    box.close()
    for f in tmp_path.glob("o.sqlite3*"):
        f.write_bytes(b"")  # truncated to 0 bytes
    box = Outbox(db).open()
    assert box.last_seq == 0
    with caplog.at_level(logging.WARNING):
        box.go_on_from(5, "state.sqlite3")
    assert box.add("reps", str) == 6 and "was emptied or replaced" in caplog.text
    box.close()
    assert Outbox(db).open().last_seq == 6
