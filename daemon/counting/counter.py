"""The rep counter: stable phases in, rep, partial-rep and set-end events out.

Per exercise a rep is start -> turn -> start (a push-up's up -> down -> up, a pull-up's
down -> up -> down: ``core.exercises``); below, the start is called the top and the turn
the bottom, as for the push-up. The top is left, the bottom is voted (so it
was held at least the voting dwell), the top is voted again, and the time away from
the top lies in [min_rep_s, max_rep_s]. That time runs from the last frame at which
the top still had the highest smoothed probability to the first frame it has it
again: the votes themselves come a dwell later at both ends. Anything else that
left the top and came back is reported as a partial rep, never counted. A pause
longer than ``set_timeout_s`` ends the set, and so does a phase of another exercise.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from homegym.core import exercises
from homegym.core.errors import UserError
from homegym.core.exercises import START, TURN
from homegym.core.labels import LabelSet

from ..config.settings import CounterConfig
from .events import Event, Measured, PartialRepEvent, RepEvent, SetEndEvent, SetMeasures
from .form import FormMeter
from .voting import Vote

AVERAGED = tuple(k.removeprefix("avg_") for k in SetMeasures.model_fields if k.startswith("avg_"))  # a set's means of these


@dataclass
class _Set:
    exercise: str
    number: int
    start_t: float
    reps: int = 0
    last_rep_t: float = 0.0
    rep_time_sum: float = 0.0
    partials: int = 0  # movements of this set's exercise that came back without a rep
    judged: int = 0  # reps whose full could be told
    full: int = 0
    sums: dict[str, list[float]] = field(default_factory=dict)  # measure -> its values over the set's reps

    def add(self, m: Measured | None) -> None:
        if m is None:
            return
        if m.full is not None:
            self.judged += 1
            self.full += int(m.full)
        for key in AVERAGED:
            v = getattr(m, key)
            if v is not None:
                self.sums.setdefault(key, []).append(float(v))

    def averages(self) -> dict[str, float | int]:
        """The set's measures (SetEndEvent's SetMeasures): only those its reps had."""
        out: dict[str, float | int] = {f"avg_{k}": round(sum(v) / len(v), 3 if k.endswith("_s") else 1)
                                              for k, v in self.sums.items() if v}
        return out | ({"full_reps": self.full} if self.judged else {})


@dataclass(frozen=True)
class _Rep:
    """A rep the counter counts: when it came back to the start, and what it measured."""

    exercise: str
    t: float
    frame: int
    duration: float
    confidence: float
    measures: Measured | None


@dataclass
class _RepInProgress:
    """One excursion from the top of ``exercise``: from the last frame the top led, down (maybe) and back."""

    exercise: str
    top_t: float  # the last frame at which the top still had the highest smoothed probability
    left_t: float | None = None  # when the excursion began (the vote comes a dwell late: the top's last lead)
    back_t: float | None = None  # the first frame the top led again after the bottom
    reached_bottom: bool = False
    depth: float = 0.0  # the highest smoothed probability of the bottom seen
    confidence_sum: float = 0.0
    confidence_frames: int = 0

    @property
    def confidence(self) -> float:
        return self.confidence_sum / self.confidence_frames if self.confidence_frames else 0.0

    def end(self, t: float) -> float:
        """When the excursion ended: when the top led again, or ``t`` where it has not yet."""
        return self.back_t if self.back_t is not None else t

    def duration(self, t: float) -> float:
        """Time away from the top, up to ``t`` (or to when the top led again)."""
        assert self.left_t is not None
        return self.end(t) - self.left_t


def counted_exercises(labels: LabelSet, cfg: CounterConfig) -> tuple[str, ...]:
    """The exercises counted: counter.exercises (each one the model knows: a UserError naming the key otherwise), or
    every exercise the model knows."""
    if cfg.exercises is None:
        return labels.exercises
    unknown = [ex for ex in cfg.exercises if ex not in labels.exercises]
    if unknown:
        raise UserError(f"counter.exercises: {', '.join(unknown)} is not an exercise this model counts "
                        f"(it counts {', '.join(labels.exercises)})")
    return tuple(ex for ex in labels.exercises if ex in cfg.exercises)


class RepCounter:
    def __init__(self, labels: LabelSet, cfg: CounterConfig, clock: Callable[[], str] | None = None,
                 form: FormMeter | None = None) -> None:
        """``clock``: today's date, for a live daemon whose totals start again at midnight (None: one run's totals);
        ``form``: what measures each rep (None: reps are not measured)."""
        self.cfg = cfg
        self.form = form
        self.labelset = labels
        self.exercises = counted_exercises(labels, cfg)
        self._role_of: list[tuple[str, str] | None] = [  # (exercise, role) of each label counted
            (ex, r) if ex and r and ex in self.exercises else None for ex, r in zip(labels.exercise_of, labels.role_of)]
        self._down_index = {ex: labels.index(ex, TURN) for ex in labels.exercises}
        self._up_index = {ex: labels.index(ex, START) for ex in labels.exercises}
        self.labels = labels.labels
        self.total = 0
        self.by_exercise = {ex: 0 for ex in self.exercises}
        self.sets = 0
        self.current: _Set | None = None
        self.forced_exercise: str | None = None  # from a command ("auto" = None)
        self.today = clock
        self.day: str | None = clock() if clock else None  # the day the totals belong to
        self._rep: _RepInProgress | None = None  # the excursion from the last top, if any
        self._last: tuple[str, str] | None = None
        self._held: list[_Rep] = []  # a set's first reps, until it has counter.min_set_reps of them

    def _end_set(self, t: float, frame: int, reason: str) -> list[Event]:
        s, self.current = self.current, None
        if s is None or s.reps == 0:
            return []
        return [SetEndEvent(t=t, frame=frame, exercise=s.exercise, set=s.number, reps=s.reps,
                            duration_s=round(s.last_rep_t - s.start_t, 3), avg_rep_s=round(s.rep_time_sum / s.reps, 3), reason=reason,
                            partials=s.partials, **s.averages())]

    def _let_go(self) -> list[Event]:
        """The held reps of a set that ended short of counter.min_set_reps: each a partial with reason alone."""
        held, self._held = self._held, []
        return [PartialRepEvent(t=r.t, frame=r.frame, exercise=r.exercise, reason="alone", duration_s=round(r.duration, 3),
                                **(dict(r.measures) if r.measures is not None else {})) for r in held]

    def stop(self, t: float, frame: int) -> list[Event]:
        """The session ends: close the open set."""
        return self._let_go() + self._end_set(t, frame, "stop")

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
            "phase": exercises.of(self._last[0]).position(self._last[1]) if self._last else None,
            "set": s.number if s else None,
            "reps_in_set": s.reps if s else 0,
            "today": dict(self.by_exercise),
            "total_today": self.total,
        }

    def forget_rep(self) -> None:
        """A new source: a rep in progress cannot go on in another picture."""
        self._rep = None

    def reset(self, t: float, frame: int, new_day: bool = False) -> list[Event]:
        out = self._let_go() + self._end_set(t, frame, "reset")
        if new_day:
            self.total = 0
            self.by_exercise = {ex: 0 for ex in self.exercises}
        return out

    # -- one voted frame -------------------------------------------------------------------------

    def update(self, vote: Vote, t: float, frame: int) -> list[Event]:
        """One voted frame: the set's pause, the rep in progress followed, then what a phase change means."""
        out: list[Event] = []
        if self.current and t - self.current.last_rep_t > self.cfg.set_timeout_s:
            out += self._end_set(t, frame, "pause")
        if self._held and t - self._held[-1].t > self.cfg.set_timeout_s:
            out += self._let_go()
        phase = self._counted_phase(vote)
        if self._rep is not None:
            self._follow(self._rep, vote, t)
        if not vote.changed:
            return out + self._shallow_dip(phase, vote, t, frame)
        self._last = phase
        if phase and self.current and phase[0] != self.current.exercise:
            out += self._end_set(t, frame, "exercise_change")
        if phase and self._held and phase[0] != self._held[0].exercise:
            out += self._let_go()
        if phase is None:  # neither, or a phase of an ignored exercise: the top was left
            if self._rep is not None and self._rep.left_t is None:
                self._rep.left_t = self._rep.top_t
            return out
        exercise, name = phase
        if name == TURN:
            self._at_bottom(exercise, t)
            return out
        return out + self._at_top(exercise, t, frame)

    def _counted_phase(self, vote: Vote) -> tuple[str, str] | None:
        """The voted (exercise, phase); None for neither and for another exercise than a forced one."""
        phase = self._role_of[self.labels.index(vote.phase)] if vote.phase is not None else None
        if phase and self.forced_exercise and phase[0] != self.forced_exercise:
            return None
        return phase

    def _follow(self, rep: _RepInProgress, vote: Vote, t: float) -> None:
        """Every frame of an excursion: when the top last led (or led again after the bottom), its depth, its confidence."""
        top_leads = int(vote.smoothed.argmax()) == self._up_index[rep.exercise]
        if rep.left_t is None and top_leads:
            rep.top_t = t
        elif rep.reached_bottom:
            rep.back_t = rep.end(t) if top_leads else None
        rep.confidence_sum += float(vote.smoothed.max())
        rep.confidence_frames += 1
        rep.depth = max(rep.depth, float(vote.smoothed[self._down_index[rep.exercise]]))

    def _shallow_dip(self, phase: tuple[str, str] | None, vote: Vote, t: float, frame: int) -> list[Event]:
        """A dip that never left the top: the bottom's probability rose past ``partial_min`` and fell again."""
        rep = self._rep
        if not (phase and phase[1] == START and rep is not None and rep.left_t is None):
            return []
        least = self.cfg.get(phase[0], "partial_min")
        if rep.depth < least or vote.smoothed[self._down_index[phase[0]]] >= least / 2:
            return []
        depth, rep.depth = rep.depth, 0.0
        return [self._partial(PartialRepEvent(t=t, frame=frame, exercise=phase[0], set=self._set_number(), reason="no_down",
                                              depth=round(depth, 3)))]

    def _at_bottom(self, exercise: str, t: float) -> None:
        rep = self._rep
        if rep is not None and rep.exercise == exercise:
            if rep.left_t is None:
                rep.left_t = rep.top_t  # the vote comes a dwell late: the descent began earlier
            rep.reached_bottom = True
        elif self.cfg.bottom_first:  # a bottom without its top before it: the rep runs from here to the next top
            self._rep = _RepInProgress(exercise, top_t=t, left_t=t, reached_bottom=True)
        else:  # a bottom without a top before it: wait for the next top
            self._rep = None

    def _at_top(self, exercise: str, t: float, frame: int) -> list[Event]:
        """Back at (or first reaching) the top of ``exercise``: a rep, a partial one, or the start of the next."""
        out: list[Event] = []
        rep = self._rep
        if rep is not None and self.cfg.bottom_first and rep.reached_bottom and rep.exercise != exercise:
            rep.exercise = exercise  # the bottom was voted as the other exercise (the fold's slow average had not turned yet)
        if rep is not None and rep.exercise == exercise and rep.left_t is not None:
            duration = rep.duration(t)
            low, high = self.cfg.get(exercise, "min_rep_s"), self.cfg.get(exercise, "max_rep_s")
            if rep.reached_bottom and low <= duration <= high:
                m = self._measure(rep, t)
                why = self._no_rep(rep, m, t)
                if m is not None and why:
                    out.append(self._partial(PartialRepEvent(t=t, frame=frame, exercise=exercise, set=self._set_number(),
                                                             reason=why, depth=round(rep.depth, 3),
                                                             duration_s=round(duration, 3), **dict(m))))
                else:
                    out += self._count(_Rep(exercise, t, frame, duration, rep.confidence, m))
            elif rep.reached_bottom or rep.depth >= self.cfg.get(exercise, "partial_min"):
                reason = "no_down" if not rep.reached_bottom else ("too_fast" if duration < low else "too_slow")
                out.append(self._partial(PartialRepEvent(t=t, frame=frame, exercise=exercise, set=self._set_number(),
                                                         reason=reason, depth=round(rep.depth, 3), duration_s=round(duration, 3))))
        self._rep = _RepInProgress(exercise, top_t=t)
        return out

    def _measure(self, rep: _RepInProgress, t: float) -> Measured | None:
        """The rep's tempo and range of motion, from its start to when the start led again (None: not measured)."""
        if self.form is None or rep.left_t is None:
            return None
        return self.form.measure(rep.exercise, rep.left_t, rep.end(t), t)

    def _no_rep(self, rep: _RepInProgress, m: Measured | None, t: float) -> str | None:
        """Why a timed rep is no rep by its measures (a partial's reason), or None; a rep not measured counts."""
        if m is None or self.form is None or rep.left_t is None:
            return None
        ex = rep.exercise
        if m.travel_deg is not None and m.travel_deg < self.cfg.get(ex, "min_travel_deg"):
            return "still"
        if m.full is False and not self.form.cfg.count_short:
            return "short"
        legs = self.cfg.get(ex, "min_legs_deg")
        if legs:
            opened = self.form.travel("legs", rep.left_t, rep.end(t))
            if opened is None or opened < legs:
                return "legs_still"
        return None

    def _partial(self, event: PartialRepEvent) -> PartialRepEvent:
        """A partial movement, counted in the set in progress where it is of the set's exercise."""
        if self.current is not None and self.current.exercise == event.exercise:
            self.current.partials += 1
        return event

    def _set_number(self) -> int:
        return self.current.number if self.current else 0

    def _count(self, rep: _Rep) -> list[Event]:
        """A rep counted: out at once, or held while its set is shorter than counter.min_set_reps (then the set's
        held reps go out together, in order)."""
        need = int(self.cfg.get(rep.exercise, "min_set_reps"))
        if self.current is not None or need <= 1:
            return self._counted(rep)
        self._held.append(rep)
        if len(self._held) < need:
            return []
        held, self._held = self._held, []
        return [e for r in held for e in self._counted(r)]

    def _counted(self, rep: _Rep) -> list[Event]:
        ex, t, duration, measures = rep.exercise, rep.t, rep.duration, rep.measures
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
        s.add(measures)
        self.total += 1
        self.by_exercise[ex] += 1
        return [RepEvent(t=t, frame=rep.frame, exercise=ex, rep=s.reps, set=s.number, total=self.total,
                         exercise_total=self.by_exercise[ex], confidence=round(rep.confidence, 3), duration_s=round(duration, 3),
                         **(dict(measures) if measures is not None else {}))]
