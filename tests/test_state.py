"""The state store: today's totals survive a restart on their own, apart from MQTT delivery."""

from __future__ import annotations

import pytest

from homegym.core.errors import UserError
from homegym.daemon.delivery.state import KEEP_DAYS, StateStore


def test_totals_per_day_survive_a_reopen(tmp_path) -> None:
    store = StateStore(tmp_path / "state.sqlite3").open()
    assert store.totals("2026-11-23") == {}
    store.save_totals("2026-11-23", {"pushup": 12, "squat": 3})
    store.save_totals("2026-11-23", {"pushup": 13, "squat": 3})
    store.close()
    again = StateStore(tmp_path / "state.sqlite3").open()
    assert again.totals("2026-11-23") == {"pushup": 13, "squat": 3} and again.totals("2026-11-24") == {}


def test_old_days_are_pruned(tmp_path) -> None:
    store = StateStore(tmp_path / "state.sqlite3").open()
    days = [f"2026-{m:02d}-{d:02d}" for m in (10, 11) for d in range(1, 29)]
    for i, day in enumerate(days):
        store.save_totals(day, {"squat": i})
    assert store.totals(days[-1]) == {"squat": len(days) - 1}
    assert store.totals(days[-KEEP_DAYS]) != {} and store.totals(days[-KEEP_DAYS - 1]) == {}


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
    store.save_totals(today(), {"pushup": 5, "squat": 2})  # an earlier run today
    store.close()
    svc = Service(cfg)
    svc.start()
    assert svc.pipe is not None and svc.pipe.totals().by_exercise == {"pushup": 5, "squat": 2} and svc.outbox is None
    summary = svc.run()
    assert summary.total == 7 + int(row["reps"])
    again = StateStore(tmp_path / "state" / "state.sqlite3").open()
    assert again.totals(today()) == {"pushup": 5 + int(row["reps"]), "squat": 2}
    assert not (tmp_path / "state" / "outbox.sqlite3").exists()
