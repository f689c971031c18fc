"""The rep counter: stable phases in, rep, partial-rep and set-end events out.

Per exercise a rep is up -> down -> up: the top is left, the bottom is voted (so it
was held at least the voting dwell), the top is voted again, and the time away from
the top lies in [min_rep_s, max_rep_s]. That time runs from the last frame at which
the top still had the highest smoothed probability to the first frame it has it
again: the votes themselves come a dwell later at both ends. Anything else that
left the top and came back is reported as a partial rep, never counted. A pause
longer than ``set_timeout_s`` ends the set, and so does a phase of another exercise.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from homegym.core.labels import LabelSet

from .config import CounterConfig
from .events import Event, PartialRepEvent, RepEvent, SetEndEvent
from .voting import Vote


@dataclass
class _Set:
    exercise: str
    number: int
    start_t: float
    reps: int = 0
    last_rep_t: float = 0.0
    rep_time_sum: float = 0.0


class RepCounter:
    def __init__(self, labels: LabelSet, cfg: CounterConfig) -> None:
        self.cfg = cfg
        self.labelset = labels
        self._phase_of: list[tuple[str, str] | None] = [
            (ex, ph) if ex and ph else None for ex, ph in zip(labels.exercise_of, labels.phase_of)]
        self._down_index = {ex: labels.index(ex, "down") for ex in labels.exercises}
        self._up_index = {ex: labels.index(ex, "up") for ex in labels.exercises}
        self.exercises = labels.exercises
        self.labels = labels.labels
        self.total = 0
        self.by_exercise = {ex: 0 for ex in self.exercises}
        self.sets = 0
        self.current: _Set | None = None
        self.forced_exercise: str | None = None  # from a command ("auto" = None)
        # The day the totals belong to; with a clock set (the live daemon) they start again at midnight.
        self.today: Callable[[], str] | None = None
        self.day: str | None = None
        # Excursion from the top of ``self._top``: when it began, whether the bottom was voted, how deep it got.
        self._top: str | None = None
        self._top_t = 0.0  # the last frame at which the top still had the highest smoothed probability
        self._left_t: float | None = None
        self._back_t: float | None = None  # the first frame the top dominated again after the bottom
        self._down = False
        self._depth = 0.0
        self._conf_sum = 0.0
        self._conf_n = 0
        self._last: tuple[str, str] | None = None

    @property
    def phase(self) -> tuple[str, str] | None:
        """The (exercise, phase) of the last voted phase change; None for neither."""
        return self._last

    def _end_set(self, t: float, frame: int, reason: str) -> list[Event]:
        s, self.current = self.current, None
        if s is None or s.reps == 0:
            return []
        return [SetEndEvent(t=t, frame=frame, exercise=s.exercise, set=s.number, reps=s.reps,
                            duration_s=round(s.last_rep_t - s.start_t, 3), avg_rep_s=round(s.rep_time_sum / s.reps, 3), reason=reason)]

    def stop(self, t: float, frame: int) -> list[Event]:
        """The session ends: close the open set."""
        return self._end_set(t, frame, "stop")

    def restore(self, by_exercise: dict[str, int]) -> None:
        """Today's totals from the store, after a restart."""
        for ex, n in by_exercise.items():
            if ex in self.by_exercise:
                self.by_exercise[ex] = int(n)
        self.total = sum(self.by_exercise.values())

    def state(self) -> dict:
        """What ``gym/state`` shows: the current exercise, phase, set and today's totals."""
        s = self.current
        return {
            "exercise": s.exercise if s else (self._last[0] if self._last else None),
            "phase": self._last[1] if self._last else None,
            "set": s.number if s else None,
            "reps_in_set": s.reps if s else 0,
            "today": dict(self.by_exercise),
            "total_today": self.total,
        }

    def reset(self, t: float, frame: int, new_day: bool = False) -> list[Event]:
        out = self._end_set(t, frame, "reset")
        if new_day:
            self.total = 0
            self.by_exercise = {ex: 0 for ex in self.exercises}
        return out

    def update(self, vote: Vote, t: float, frame: int) -> list[Event]:
        out: list[Event] = []
        if self.current and t - self.current.last_rep_t > self.cfg.set_timeout_s:
            out += self._end_set(t, frame, "pause")
        pe = None
        if vote.phase is not None:
            pe = self._phase_of[self.labels.index(vote.phase)]
        if pe and self.forced_exercise and pe[0] != self.forced_exercise:
            pe = None  # a forced exercise ignores the phases of the others
        if self._top is not None:
            top_wins = int(vote.smoothed.argmax()) == self._up_index[self._top]
            if self._left_t is None and top_wins:
                self._top_t = t
            elif self._down:
                self._back_t = (self._back_t if self._back_t is not None else t) if top_wins else None
        if self._top is not None:
            self._conf_sum += float(vote.smoothed.max())
            self._conf_n += 1
            di = self._down_index.get(self._top)
            if di is not None:
                self._depth = max(self._depth, float(vote.smoothed[di]))
        if not vote.changed:
            # A shallow dip that never left the top: the bottom's probability rose and fell again.
            if pe and pe[1] == "up" and self._left_t is None and self._depth >= self.cfg.partial_min:
                di = self._down_index[pe[0]]
                if vote.smoothed[di] < self.cfg.partial_min / 2:
                    out.append(PartialRepEvent(t=t, frame=frame, exercise=pe[0], set=self.current.number if self.current else 0,
                                               reason="no_down", depth=round(self._depth, 3)))
                    self._depth = 0.0
            return out
        self._last = pe
        if pe and self.current and pe[0] != self.current.exercise:
            out += self._end_set(t, frame, "exercise_change")
        if pe is None:  # neither, or a phase of an ignored exercise
            if self._top is not None and self._left_t is None:
                self._left_t = self._top_t
            return out
        ex, ph = pe
        if ph == "down":
            if self._top == ex:
                if self._left_t is None:
                    self._left_t = self._top_t  # the vote comes a dwell late: the descent began earlier
                self._down = True
            elif self.cfg.bottom_first:  # a bottom without its top before it: the rep runs from here to the next top
                self._top, self._left_t, self._back_t, self._down = ex, t, None, True
                self._depth, self._conf_sum, self._conf_n = 0.0, 0.0, 0
            else:  # a bottom without a top before it: wait for the next top
                self._top, self._left_t, self._down = None, None, False
            return out
        # ph == "up": back at (or first reaching) the top of ``ex``.
        if self.cfg.bottom_first and self._down and self._top != ex:
            self._top = ex  # the bottom was voted as the other exercise (the fold's slow average had not turned yet)
        if self._top == ex and self._left_t is not None:
            duration = (self._back_t if self._back_t is not None else t) - self._left_t
            if self._down and self.cfg.min_rep_s <= duration <= self.cfg.max_rep_s:
                out += self._count(ex, t, frame, duration)
            elif self._down or self._depth >= self.cfg.partial_min:
                reason = "no_down" if not self._down else ("too_fast" if duration < self.cfg.min_rep_s else "too_slow")
                out.append(PartialRepEvent(t=t, frame=frame, exercise=ex, set=self.current.number if self.current else 0,
                                           reason=reason, depth=round(self._depth, 3), duration_s=round(duration, 3)))
        self._top, self._top_t, self._left_t, self._back_t, self._down, self._depth = ex, t, None, None, False, 0.0
        self._conf_sum, self._conf_n = 0.0, 0
        return out

    def _count(self, ex: str, t: float, frame: int, duration: float) -> list[Event]:
        if self.today is not None and self.today() != self.day:
            self.day = self.today()
            self.total = 0
            self.by_exercise = {e: 0 for e in self.exercises}
        if self.current is None:
            self.sets += 1
            self.current = _Set(ex, self.sets, start_t=t - duration)
        s = self.current
        s.reps += 1
        s.last_rep_t = t
        s.rep_time_sum += duration
        self.total += 1
        self.by_exercise[ex] += 1
        conf = self._conf_sum / self._conf_n if self._conf_n else 0.0
        return [RepEvent(t=t, frame=frame, exercise=ex, rep=s.reps, set=s.number, total=self.total,
                         exercise_total=self.by_exercise[ex], confidence=round(conf, 3), duration_s=round(duration, 3))]
