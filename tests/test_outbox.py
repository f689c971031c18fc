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
