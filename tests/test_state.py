"""The state store: today's totals survive a restart on their own, apart from MQTT delivery."""

from __future__ import annotations

import pytest

from homegym.core.errors import UserError
from homegym.daemon.delivery.state import KEEP_S, StateStore


def test_totals_per_day_survive_a_reopen(tmp_path) -> None:
    store = StateStore(tmp_path / "state.sqlite3").open()
    assert store.totals("2026-11-23") == {}
    store.save("2026-11-23", {"pushup": 12, "squat": 3})
    store.save("2026-11-23", {"pushup": 13, "squat": 3})
    store.close()
    again = StateStore(tmp_path / "state.sqlite3").open()
    assert again.totals("2026-11-23") == {"pushup": 13, "squat": 3} and again.totals("2026-11-24") == {}


def test_more_than_a_year_is_kept_and_older_days_are_pruned(tmp_path) -> None:
    import datetime

    store = StateStore(tmp_path / "state.sqlite3").open()
    today = datetime.date.today()
    kept, gone = (today - datetime.timedelta(days=366)).isoformat(), (today - datetime.timedelta(days=KEEP_S // 86400 + 2)).isoformat()
    for day in (gone, kept, today.isoformat()):
        store.save(day, {"squat": 3}, {"ended": 1.0, "exercise": "squat", "reps": 3, "duration_s": 5.0})
    assert store.totals(kept) == {"squat": 3} and store.totals(gone) == {}
    assert sorted(s["day"] for s in store.last_sets(10)) == [kept, today.isoformat()]


def test_a_state_dir_that_cannot_be_made_names_the_key(tmp_path) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(UserError, match=r"state.dir: cannot open the state store .*file/x/state.sqlite3"):
        StateStore(tmp_path / "file" / "x" / "state.sqlite3").open()


@pytest.mark.slow
def test_with_mqtt_off_todays_totals_survive_a_restart(image_ir, image_clips, tmp_path) -> None:
    """The state store is the service's, not the outbox's: no MQTT, and the day's count still comes back."""
    from support import counted_rows

    from homegym.daemon.config import settings as config_mod
    from homegym.daemon.service.service import Service, today

    row = next(c for c in counted_rows(image_clips) if c["exercise"] == "pushup" and int(c["reps"]) >= 2)
    cfg = config_mod.parse({"source": {"uri": str(image_clips / row["file"]), "realtime": True},
                            "model": {"path": str(image_ir)}, "mqtt": {"enabled": False},
                            "state": {"dir": str(tmp_path / "state")}})
    store = StateStore(tmp_path / "state" / "state.sqlite3").open()
    store.save(today(), {"pushup": 5, "squat": 2})  # an earlier run today
    store.close()
    svc = Service(cfg)
    svc.start()
    assert svc.pipe is not None and svc.pipe.totals().by_exercise == {"pushup": 5, "squat": 2} and svc.outbox is None
    summary = svc.run()
    assert summary.total == 7 + int(row["reps"])
    again = StateStore(tmp_path / "state" / "state.sqlite3").open()
    assert again.totals(today()) == {"pushup": 5 + int(row["reps"]), "squat": 2}
    assert not (tmp_path / "state" / "outbox.sqlite3").exists()


def test_the_stores_are_this_users_alone_and_keep_the_last_seq(tmp_path) -> None:
    store = StateStore(tmp_path / "state.sqlite3").open()
    assert store.found_empty
    store.save("2026-12-07", {"squat": 1}, seq=41)
    store.close()
    again = StateStore(tmp_path / "state.sqlite3").open()
    assert again.last_seq == 41 and not again.found_empty
    assert (tmp_path / "state.sqlite3").stat().st_mode & 0o777 == 0o600


def test_a_full_disk_keeps_totals_and_sets_in_memory_until_it_can_write(tmp_path) -> None:
    store = StateStore(tmp_path / "state.sqlite3").open()
    pages = store._db.execute("PRAGMA page_count").fetchone()[0]
    store._db.execute(f"PRAGMA max_page_count = {pages}")  # SQLite's own "database or disk is full" from here
    name = "squat" + "_" * 2000  # sets that need pages the file does not have
    for n in range(1, 200):
        store.save("2026-12-07", {"squat": n}, {"ended": float(n), "exercise": name, "reps": n, "duration_s": 1.0}, seq=n)
    assert store.unwritten > 0 and store.totals("2026-12-07") == {"squat": 199}
    assert store.last_sets(1)[0]["reps"] == 199
    store._db.execute("PRAGMA max_page_count = 1000000")
    store.retry()
    assert store.unwritten == 0
    store.close()
    again = StateStore(tmp_path / "state.sqlite3").open()
    assert again.totals("2026-12-07") == {"squat": 199} and again.last_seq == 199


def test_a_file_that_is_not_a_database_names_the_key(tmp_path) -> None:
    (tmp_path / "state.sqlite3").write_bytes(b"\x89PNG" + bytes(5000))
    with pytest.raises(UserError, match=r"state.dir: the state store .* cannot be used"):
        StateStore(tmp_path / "state.sqlite3").open()


@pytest.mark.slow
def test_an_outbox_or_state_store_lost_never_sends_seq_back_and_says_so(image_ir, image_clips, tmp_path, caplog) -> None:
    import logging

    from support import counted_rows

    from homegym.daemon.config import settings as config_mod
    from homegym.daemon.service.service import Service, today
    from homegym.measure.broker import free_port

    state = tmp_path / "state"
    store = StateStore(state / "state.sqlite3").open()
    store.save(today(), {"pushup": 3}, seq=41)  # an earlier run numbered 41 events; its outbox is gone
    store.close()
    row = counted_rows(image_clips)[0]
    cfg = config_mod.parse({"source": {"uri": str(image_clips / row["file"])}, "model": {"path": str(image_ir)},
                            "mqtt": {"port": free_port()}, "state": {"dir": str(state)}})  # no broker: delivery waits

    def started() -> Service:
        svc = Service(cfg)
        svc.start()
        return svc

    with caplog.at_level(logging.WARNING):
        svc = started()
        try:
            assert svc.outbox is not None and svc.outbox.last_seq == 41 and "was emptied or replaced" in caplog.text
            assert svc.pipe is not None and svc.pipe.totals().by_exercise.get("pushup") == 3
        finally:
            svc.stop()
        for f in state.glob("state.sqlite3*"):
            f.unlink()  # now the state store is lost, the outbox kept
        svc = started()
        try:
            assert svc.outbox is not None and svc.outbox.last_seq == 41
            assert "was empty or missing, but the outbox has numbered 41 events" in caplog.text
        finally:
            svc.stop()
