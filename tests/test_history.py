"""The history on the box: every day's totals and every set for more than a year, a schema that upgrades, sets
deleted with their day's totals, personal bests, and ``homegym history`` as a table, CSV and JSON."""

from __future__ import annotations

import csv
import datetime
import io
import json
import sqlite3

import pytest
from support import one_line_error, run_cli

from homegym.daemon.counting.events import SetEndEvent
from homegym.daemon.delivery import history, schema
from homegym.daemon.delivery.state import StateStore
from homegym.daemon.live.view import set_row

TODAY = datetime.date.today()


def day(n: int) -> str:
    """``n`` days ago."""
    return (TODAY - datetime.timedelta(days=n)).isoformat()


def a_set(exercise: str, reps: int, when: str, partials: int = 0, measures: dict | None = None) -> dict:
    ended = datetime.datetime.fromisoformat(when + "T18:00").timestamp()
    return {"exercise": exercise, "reps": reps, "duration_s": 2.0 * reps, "ended": ended, "partials": partials,
            "measures": measures}


def workouts(store: StateStore) -> None:
    """Three days in a row two weeks ago, then today: push-ups and squats; today's last set with its measures."""
    totals: dict[str, dict[str, int]] = {}
    for when, ex, reps in [(day(15), "pushup", 10), (day(14), "pushup", 12), (day(14), "squat", 20), (day(13), "pushup", 8),
                           (day(0), "squat", 15), (day(0), "squat", 5)]:
        t = totals.setdefault(when, {})
        t[ex] = t.get(ex, 0) + reps
        measures = MEASURES if (when, reps) == (day(0), 5) else None
        store.save(when, dict(t), a_set(ex, reps, when, measures=measures), seq=1)


MEASURES = {"full_reps": 4, "avg_to_turn_s": 0.93, "avg_hold_s": 0.21, "avg_back_s": 0.84, "avg_turn_deg": 81.5, "avg_travel_deg": 92.0}


@pytest.fixture
def state(tmp_path):
    cfg = tmp_path / "config.yaml"
    cfg.write_text(f"state:\n  dir: {tmp_path / 'state'}\n")
    store = StateStore(tmp_path / "state" / "state.sqlite3").open()
    workouts(store)
    store.close()
    return cfg


def test_days_sets_and_bests_survive_a_restart_and_a_change_of_day(tmp_path) -> None:
    store = StateStore(tmp_path / "state.sqlite3").open()
    workouts(store)
    store.close()
    again = StateStore(tmp_path / "state.sqlite3").open()
    days = again.days()
    assert days == {day(15): {"pushup": 10}, day(14): {"pushup": 12, "squat": 20}, day(13): {"pushup": 8}, day(0): {"squat": 20}}
    sets = again.sets()
    assert [s["reps"] for s in sets] == [10, 12, 20, 8, 15, 5] and all(s["id"] for s in sets)
    best = history.bests(days, sets)
    assert (best.set["squat"].reps, best.day["squat"].reps, best.day["pushup"].day) == (20, 20, day(14))
    assert (best.streak_days, best.streak_ended) == (3, day(13))
    weeks = history.by_week(days)
    assert sum(sum(t.values()) for t in weeks.values()) == 70 and all(datetime.date.fromisoformat(w).weekday() == 0 for w in weeks)


def test_deleting_a_set_takes_its_reps_from_its_days_totals(tmp_path) -> None:
    store = StateStore(tmp_path / "state.sqlite3").open()
    workouts(store)
    wrong = next(s for s in store.sets() if s["day"] == day(14) and s["exercise"] == "squat")
    assert store.delete_set(wrong["id"])["reps"] == 20
    assert store.totals(day(14)) == {"pushup": 12, "squat": 0} and wrong["id"] not in {s["id"] for s in store.sets()}
    assert store.delete_set(wrong["id"]) is None
    store.close()


def test_a_heavy_users_year_stays_under_10_mb(tmp_path) -> None:
    """20 sets a day for 365 days, each with its measures (the averages of its reps' tempo and range)."""
    store = StateStore(tmp_path / "state.sqlite3").open()
    store._db.execute("PRAGMA synchronous=OFF")  # speed only: 7,300 commits; the size is what is measured
    measures = set_row(SetEndEvent(t=1.0, frame=1, exercise="pushup", reps=15, full_reps=14, avg_to_turn_s=1.123, avg_hold_s=0.213,
                                   avg_back_s=1.311, avg_turn_deg=88.4, avg_travel_deg=77.1))["measures"]
    for d in range(365):
        when = day(364 - d)
        for k in range(20):
            store.save(when, {"pushup": 15 * (k + 1)}, a_set("pushup", 15, when, 1, measures), seq=d * 20 + k)
    store._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    size = sum(f.stat().st_size for f in tmp_path.glob("state.sqlite3*"))
    assert len(StateStore(tmp_path / "state.sqlite3").open().sets()) == 7300
    assert size <= 10 * 1024 * 1024, size
    print(f"\na year of 7,300 sets: {size / 1e6:.1f} MB")


V1 = """
CREATE TABLE totals (day TEXT PRIMARY KEY, by_exercise TEXT NOT NULL);
CREATE TABLE sets (ended REAL NOT NULL, exercise TEXT NOT NULL, reps INTEGER NOT NULL, duration_s REAL NOT NULL);
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


def test_a_state_store_of_the_version_before_is_upgraded_with_nothing_lost(tmp_path) -> None:
    """A file as the daemon wrote it before history (schema 1: no version, sets without ids)."""
    path = tmp_path / "state.sqlite3"
    db = sqlite3.connect(str(path))
    db.executescript(V1)
    db.execute("INSERT INTO totals VALUES (?, ?)", (day(1), json.dumps({"pushup": 30, "squat": 12})))
    db.execute("INSERT INTO totals VALUES (?, ?)", (day(0), json.dumps({"pushup": 5})))
    sets = [a_set("pushup", 30, day(1)), a_set("squat", 12, day(1)), a_set("pushup", 5, day(0))]
    db.executemany("INSERT INTO sets VALUES (?, ?, ?, ?)", [(s["ended"], s["exercise"], s["reps"], s["duration_s"]) for s in sets])
    db.execute("INSERT INTO meta VALUES ('last_seq', '57')")
    db.commit()
    db.close()
    store = StateStore(path).open()
    assert store.upgraded_from == 1 and store.last_seq == 57 and not store.found_empty
    assert store.days() == {day(1): {"pushup": 30, "squat": 12}, day(0): {"pushup": 5}}
    assert [(s["day"], s["exercise"], s["reps"], s["ended"]) for s in store.sets()] == \
        [(day(1), "pushup", 30, sets[0]["ended"]), (day(1), "squat", 12, sets[1]["ended"]), (day(0), "pushup", 5, sets[2]["ended"])]
    store.close()
    assert StateStore(path).open().upgraded_from == schema.VERSION, "upgraded once"


@pytest.mark.parametrize("kind", ["another program's", "a newer homegym's", "damaged"])
def test_a_state_store_that_is_not_ours_is_refused_in_one_line_and_left_as_it_is(tmp_path, kind) -> None:
    path = tmp_path / "state" / "state.sqlite3"
    path.parent.mkdir()
    if kind == "damaged":
        path.write_bytes(b"SQLite format 3\x00" + bytes(range(256)) * 20)
    else:
        db = sqlite3.connect(str(path))
        if kind == "another program's":
            db.execute("CREATE TABLE invoices (id INTEGER, amount REAL)")
        else:
            db.executescript(schema.CREATE)
            db.execute("INSERT INTO meta VALUES ('schema_version', '99')")
        db.commit()
        db.close()
    before = path.read_bytes()
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"mqtt:\n  enabled: false\nstate:\n  dir: {path.parent}\n")
    line = one_line_error(run_cli("run", "--config", str(cfg), timeout=120))
    assert str(path) in line and ("not a HomeGym state store" in line or "newer HomeGym" in line or "cannot be used" in line)
    assert path.read_bytes() == before, "nothing overwritten"


def test_history_prints_days_weeks_and_bests_and_its_csv_round_trips(state) -> None:
    r = run_cli("history", "--config", str(state), "--days", "20")
    assert r.returncode == 0, r.stderr
    assert "push-ups" in r.stdout and "best set: push-ups 12" in r.stdout and "longest streak: 3 days" in r.stdout
    r = run_cli("history", "--config", str(state), "--days", "20", "--csv")
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert [(x["day"], int(x["total"]), int(x["pushup"]), int(x["squat"])) for x in rows] == \
        [(day(15), 10, 10, 0), (day(14), 32, 12, 20), (day(13), 8, 8, 0), (day(0), 20, 0, 20)]
    weeks = json.loads(run_cli("history", "--config", str(state), "--weeks", "4", "--json").stdout)
    assert sum(sum(t.values()) for t in weeks["weeks"].values()) == 70 and weeks["bests"]["streak_days"] == 3
    sets = json.loads(run_cli("history", "sets", "--config", str(state), "--days", "20", "--json").stdout)
    assert len(sets) == 6 and sets[-1]["measures"] == MEASURES
    rows = list(csv.DictReader(io.StringIO(run_cli("history", "sets", "--config", str(state), "--days", "20", "--csv").stdout)))
    assert len(rows) == 6 and rows[0]["avg_to_turn_s"] == "" and float(rows[-1]["avg_to_turn_s"]) == 0.93
    assert {k: float(rows[-1][k]) for k in MEASURES} == MEASURES  # each measure a column of its own
    table = run_cli("history", "sets", "--config", str(state), "--days", "20").stdout
    assert "0.9/0.2/0.8" in table and "92°" in table and "4/5" in table, table


def test_history_delete_without_a_daemon_edits_the_file(state) -> None:
    sets = json.loads(run_cli("history", "sets", "--config", str(state), "--days", "20", "--json").stdout)
    today = next(s for s in sets if s["day"] == day(0) and s["reps"] == 5)
    r = run_cli("history", "delete", str(today["id"]), "--config", str(state))
    assert r.returncode == 0 and "deleted set" in r.stdout, r.stderr
    rows = list(csv.DictReader(io.StringIO(run_cli("history", "--config", str(state), "--csv").stdout)))
    assert rows[-1]["day"] == day(0) and rows[-1]["total"] == "15"
    assert "no set 9999" in one_line_error(run_cli("history", "delete", "9999", "--config", str(state)))
    assert "which set?" in one_line_error(run_cli("history", "delete", "--config", str(state)))


def test_history_without_a_store_says_so_and_makes_none(tmp_path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"state:\n  dir: {tmp_path / 'none'}\n")
    assert "no history yet" in one_line_error(run_cli("history", "--config", str(cfg)))
    assert not (tmp_path / "none").exists()


@pytest.mark.slow
def test_a_set_deleted_while_the_daemon_runs_leaves_todays_count_at_once(tmp_path, live_clips) -> None:
    """`homegym history delete` goes through the running daemon (its page's API), which forgets the set in its own thread
    and publishes today's corrected count; the page lists the sets with their ids."""
    import signal

    from support import Stderr, live_config, start_daemon, wait_for, wait_http

    from homegym.measure.broker import free_port

    state = tmp_path / "state"
    store = StateStore(state / "state.sqlite3").open()
    store.save(day(0), {"pushup": 7}, a_set("pushup", 7, day(0)))
    store.save(day(0), {"pushup": 19}, a_set("pushup", 12, day(0)))
    wrong = store.sets()[-1]["id"]
    store.close()
    port = free_port()
    cfg = live_config(tmp_path, live_clips / "long.mp4", port, state=state)
    proc = start_daemon(cfg)
    log = Stderr(proc)
    try:
        assert wait_http(f"http://127.0.0.1:{port}/api/state"), log.text()[-2000:]

        def snap() -> dict:
            import urllib.request

            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/state", timeout=5) as r:
                return json.load(r)

        assert snap()["state"]["total_today"] == 19 and {s["id"] for s in snap()["sets"]} >= {wrong}
        r = run_cli("history", "delete", str(wrong), "--config", str(cfg))
        assert r.returncode == 0 and "by the running daemon" in r.stdout, r.stdout + r.stderr
        assert wait_for(lambda: snap()["state"]["total_today"] == 7, 10)
        assert wrong not in {s["id"] for s in snap()["sets"]}
        assert "no set" in one_line_error(run_cli("history", "delete", str(wrong), "--config", str(cfg)))
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
    assert StateStore(state / "state.sqlite3").open().totals(day(0)) == {"pushup": 7}, "and the file agrees"


def test_the_summary_has_eight_weeks_to_this_one_empty_weeks_included(tmp_path) -> None:
    store = StateStore(tmp_path / "state.sqlite3").open()
    workouts(store)
    s = history.summary(store.days(), store.sets(), day(0))
    store.close()
    assert len(s["weeks"]) == 8 and s["weeks"][-1]["week"] == history.week_of(day(0))
    assert sum(sum(w["by_exercise"].values()) for w in s["weeks"]) == 70 and s["this_week"] == {"squat": 20}
    assert s["last_set"]["reps"] == 5 and s["last_set"]["ended_at"].endswith("+00:00")
    assert any(w["by_exercise"] == {} for w in s["weeks"]), "a week without reps is there, empty"
    json.dumps(s)  # what gym/history and the page carry
