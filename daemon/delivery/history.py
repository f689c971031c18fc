"""What was done over the weeks, from the state store's days and sets: weekly totals and personal bests.

Plain functions over plain data, so that ``homegym history``, the live page and Home Assistant's
sensors read the same figures.
"""

from __future__ import annotations

import datetime
from dataclasses import asdict, dataclass, field


def week_of(day: str) -> str:
    """The ISO week a YYYY-MM-DD day is in, as its Monday (YYYY-MM-DD)."""
    d = datetime.date.fromisoformat(day)
    return (d - datetime.timedelta(days=d.weekday())).isoformat()


def by_week(days: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    """Each week's totals per exercise (keyed by its Monday), oldest first."""
    weeks: dict[str, dict[str, int]] = {}
    for day, totals in sorted(days.items()):
        week = weeks.setdefault(week_of(day), {})
        for ex, n in totals.items():
            week[ex] = week.get(ex, 0) + n
    return weeks


def longest_streak(days: dict[str, dict[str, int]]) -> tuple[int, str | None]:
    """The most days in a row with a rep, and the day it ended."""
    best, run, last, end = 0, 0, None, None
    for day in sorted(d for d, t in days.items() if any(t.values())):
        d = datetime.date.fromisoformat(day)
        run = run + 1 if last is not None and d - last == datetime.timedelta(days=1) else 1
        last = d
        if run > best:
            best, end = run, day
    return best, end


@dataclass
class Best:
    reps: int
    day: str


@dataclass
class Bests:
    """Personal bests: most reps in a set and in a day, each exercise's; the longest streak of days."""

    set: dict[str, Best] = field(default_factory=dict)
    day: dict[str, Best] = field(default_factory=dict)
    streak_days: int = 0
    streak_ended: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def bests(days: dict[str, dict[str, int]], sets: list[dict]) -> Bests:
    out = Bests()
    for s in sets:
        b = out.set.get(s["exercise"])
        if b is None or s["reps"] > b.reps:
            out.set[s["exercise"]] = Best(s["reps"], s["day"])
    for day, totals in days.items():
        for ex, n in totals.items():
            b = out.day.get(ex)
            if n and (b is None or n > b.reps):
                out.day[ex] = Best(n, day)
    out.streak_days, out.streak_ended = longest_streak(days)
    return out


WEEKS_SHOWN = 8


def summary(days: dict[str, dict[str, int]], sets: list[dict], today: str, weeks: int = WEEKS_SHOWN) -> dict:
    """What the page's history view and the retained ``gym/history`` say: the last ``weeks`` weeks per exercise
    (oldest first, a week without reps included), this week's, the personal bests and the last set."""
    monday = datetime.date.fromisoformat(week_of(today))
    shown = [(monday - datetime.timedelta(weeks=k)).isoformat() for k in range(weeks - 1, -1, -1)]
    totals = by_week(days)
    last = sets[-1] if sets else None
    return {"weeks": [{"week": w, "by_exercise": totals.get(w, {})} for w in shown],
            "this_week": totals.get(shown[-1], {}),
            "bests": bests(days, sets).to_dict(),
            "last_set": None if last is None else dict(
                {k: last.get(k) for k in ("id", "day", "ended", "exercise", "reps", "duration_s", "partials")},
                **(last.get("measures") or {}),  # its tempo and range, flat: Home Assistant's attributes
                ended_at=datetime.datetime.fromtimestamp(last["ended"], datetime.UTC).isoformat(timespec="seconds"))}
