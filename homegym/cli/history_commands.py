"""``homegym history``: what was done over the days and weeks, from the state store; ``history delete`` forgets a set."""

from __future__ import annotations

import argparse
import csv
import datetime
import json
import sys
from pathlib import Path
from typing import Any

from homegym.core import exercises
from homegym.core.errors import UserError
from homegym.daemon.counting.events import SetMeasures

from .parsing import add, load_config, service_config_path


def _config(given: Path | None) -> Any:
    return load_config(service_config_path(given))


def _store(cfg: Any):
    """The daemon's state store, opened where it is (never made: a file made here would be this user's, not the
    service's)."""
    from homegym.daemon.delivery.state import StateStore

    path = cfg.state.path() / "state.sqlite3"
    if not path.exists():
        raise UserError(f"no history yet: {path} does not exist (the daemon makes it at its first start; --config names "
                        "the daemon's config)")
    return StateStore(path).open()


def _table(rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths))) for r in rows)


def _form(m: dict, reps: int) -> list[str]:
    """A set's tempo (to the turn / held / back), travel and full reps, as the table shows them; – where not measured."""
    def n(key: str) -> str:
        return f"{m[key]:.1f}" if m.get(key) is not None else "–"
    tempo = f"{n('avg_to_turn_s')}/{n('avg_hold_s')}/{n('avg_back_s')}" if m.get("avg_to_turn_s") is not None else "–"
    travel = f"{m['avg_travel_deg']:.0f}°" if m.get("avg_travel_deg") is not None else "–"
    return [tempo, travel, f"{m['full_reps']}/{reps}" if m.get("full_reps") is not None else "–"]


def show(a: argparse.Namespace) -> int:
    from homegym.daemon.delivery import history

    store = _store(_config(a.config))
    try:
        today = datetime.date.today()
        every = store.days()
        sets = store.sets()
    finally:
        store.close()
    if a.what == "sets":
        since = (today - datetime.timedelta(days=a.days or 7)).isoformat()
        chosen = [s for s in sets if s["day"] >= since]
        if a.json:
            print(json.dumps(chosen, indent=1))
        elif a.csv:  # the set's measures flat beside it, a column each: a spreadsheet's shape
            fields = ["id", "day", "ended", "exercise", "reps", "duration_s", "partials", *SetMeasures.model_fields]
            table = csv.DictWriter(sys.stdout, fieldnames=fields, extrasaction="ignore", lineterminator="\n")
            table.writeheader()
            table.writerows({**s, **(s.get("measures") or {})} for s in chosen)
        else:
            rows = [["id", "day", "at", "exercise", "reps", "seconds", "tempo s", "range", "full"]]
            rows += [[str(s["id"] or "–"), s["day"], datetime.datetime.fromtimestamp(s["ended"]).strftime("%H:%M"),
                      exercises.words(s["exercise"]).lower(), str(s["reps"]), f"{s['duration_s']:.0f}",
                      *_form(s.get("measures") or {}, s["reps"])] for s in chosen]
            print(_table(rows) if chosen else f"no sets since {since}")
        return 0
    if a.weeks:
        first = history.week_of((today - datetime.timedelta(weeks=a.weeks - 1)).isoformat())
        periods, label = {w: t for w, t in history.by_week(every).items() if w >= first}, "week of"
    else:
        first = (today - datetime.timedelta(days=(a.days or 14) - 1)).isoformat()
        periods, label = {d: t for d, t in every.items() if d >= first}, "day"
    names = sorted({ex for t in periods.values() for ex, n in t.items() if n})
    best = history.bests(every, sets)
    if a.json:
        print(json.dumps({"weeks" if a.weeks else "days": periods, "bests": best.to_dict()}, indent=1))
        return 0
    if a.csv:
        w = csv.writer(sys.stdout, lineterminator="\n")
        w.writerow([label.replace(" ", "_"), "total", *names])
        w.writerows([p, sum(t.values()), *(t.get(ex, 0) for ex in names)] for p, t in periods.items())
        return 0
    if not periods:
        print(f"no reps since {first}")
    else:
        rows = [[label, "total", *(exercises.words(ex).lower() for ex in names)]]
        rows += [[p, str(sum(t.values())), *(str(t.get(ex, 0)) for ex in names)] for p, t in periods.items()]
        print(_table(rows))
    if best.set:
        print("\nbest set: " + "; ".join(f"{exercises.words(ex).lower()} {b.reps} ({b.day})" for ex, b in sorted(best.set.items())))
        print("best day: " + "; ".join(f"{exercises.words(ex).lower()} {b.reps} ({b.day})" for ex, b in sorted(best.day.items())))
    if best.streak_days:
        print(f"longest streak: {best.streak_days} days in a row (to {best.streak_ended})")
    return 0


def delete(a: argparse.Namespace) -> int:
    """Through the running daemon where its page answers (today's count follows at once), else in the file."""
    import urllib.error
    import urllib.request

    from homegym.daemon.live.access import load_token, local_url

    if a.set_id is None:
        raise UserError("history delete: which set? its id is in 'homegym history sets'")
    cfg = _config(a.config)
    if cfg.live.enabled:
        token = load_token(cfg)
        req = urllib.request.Request(local_url(cfg) + f"api/sets/{a.set_id}/delete", method="POST",
                                     headers={"Authorization": f"Bearer {token}"} if token else {})
        try:
            with urllib.request.urlopen(req, timeout=15) as r:
                gone = json.load(r)["deleted"]
            print(f"deleted set {a.set_id}: {gone['reps']} {exercises.words(gone['exercise']).lower()} on {gone['day']} "
                  "(by the running daemon; that day's totals follow)")
            return 0
        except urllib.error.HTTPError as e:
            if e.code == 404:
                raise UserError(f"no set {a.set_id} (the ids are in 'homegym history sets')") from None
            raise UserError(f"the daemon at {local_url(cfg)} answered {e.code} {e.reason}") from None
        except (OSError, ValueError):
            pass  # not running: the file itself
    store = _store(cfg)
    try:
        gone = store.delete_set(a.set_id)
    finally:
        store.close()
    if gone is None:
        raise UserError(f"no set {a.set_id} (the ids are in 'homegym history sets')")
    print(f"deleted set {a.set_id}: {gone['reps']} {exercises.words(gone['exercise']).lower()} on {gone['day']} "
          "(in the state store; a daemon running with the live page off keeps today's count until it restarts)")
    return 0


def history_cmd(a: argparse.Namespace) -> int:
    return delete(a) if a.what == "delete" else show(a)


def register(sub: Any) -> None:
    s = add(sub, "history", "what was done over the days and weeks (from the state store), personal bests; delete a wrong set",
            "  homegym history                     # the last 14 days, per exercise, and personal bests\n"
            "  homegym history --weeks 8 --csv     # weekly totals for a spreadsheet\n"
            "  homegym history sets --days 3       # the sets, with their ids\n"
            "  homegym history delete 42           # forget set 42; its day's totals follow\n", history_cmd)
    s.add_argument("what", nargs="?", choices=("days", "sets", "delete"), default="days", help="default: days")
    s.add_argument("set_id", nargs="?", type=int, help="delete: the set's id (homegym history sets)")
    s.add_argument("--days", type=int, help="the last N days (default 14; sets: 7)")
    s.add_argument("--weeks", type=int, help="weekly totals for the last N weeks instead")
    out = s.add_mutually_exclusive_group()
    out.add_argument("--csv", action="store_true", help="CSV for a spreadsheet")
    out.add_argument("--json", action="store_true", help="JSON for scripts")
    s.add_argument("--config", type=Path, help="the daemon's config.yaml (default: /etc/homegym/config.yaml where it exists)")
