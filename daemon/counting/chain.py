"""The per-frame chain after the model: exercise fold -> periodicity -> voting -> counter.

One object, one method a frame (``step``), no threads and no I/O: the pipeline runs it on
live frames, ``replay`` runs it again on recorded probabilities (what ``homegym tune``
tries each candidate setting on), and tests drive it frame by frame.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from homegym.core import lograte
from homegym.core.labels import LabelSet

from ..config.settings import Config, CounterConfig, VotingConfig
from .counter import RepCounter
from .events import Event
from .exercise import ExerciseFold
from .form import FormMeter
from .periodicity import Periodicity
from .voting import Vote, Voter

log = logging.getLogger(__name__)
refused = lograte.limited(f"{__name__}.commands")  # commands come from the broker: a flood is rate-limited

# frame id, time, class probabilities, pooled features (or None)
Recorded = tuple[int, float, np.ndarray, "np.ndarray | None"]


@dataclass(frozen=True)
class Totals:
    """The counts so far: of today for the live daemon (``day`` set), of the run otherwise."""

    day: str | None
    by_exercise: dict[str, int]
    total: int


class Chain:
    def __init__(self, labels: tuple[str, ...], feature_dim: int | None, cfg: Config,
                 clock: Callable[[], str] | None = None) -> None:
        self.cfg = cfg
        self.feature_dim = feature_dim
        self.labels = LabelSet.of(labels, cfg.counter.exercise)
        self.voter = Voter(labels, cfg.voting)
        self.fold = self._make_fold()
        self.periodicity = self._make_periodicity()
        self._posed = True  # the pipeline runs a pose stage (pose_stage says otherwise)
        self.form = self._make_form()
        self.counter = RepCounter(self.labels, cfg.counter, clock, self.form)  # a clock: the live daemon's totals start again at midnight

    def _make_fold(self) -> ExerciseFold | None:
        fold = ExerciseFold(self.labels, self.cfg.voting.exercise_alpha)
        return fold if self.cfg.voting.fold_exercises and fold.active else None

    def _make_periodicity(self) -> Periodicity | None:
        if not (self.cfg.periodicity.enabled and self.feature_dim):
            return None  # off, or a model without pooled features (the pipeline says so at start)
        return Periodicity(self.labels, self.feature_dim, self.cfg.periodicity)

    def step(self, probs: np.ndarray, feats: np.ndarray | None, t: float, frame: int,
             landmarks: np.ndarray | None = None) -> tuple[Vote, list[Event]]:
        """One inferred frame through folding, periodicity, voting and counting; ``landmarks``: the pose stage's
        (33, 4) where it found someone, for the rep measures."""
        if self.form is not None:
            self.form.add(t, landmarks)
        if self.fold is not None:
            probs = self.fold.update(probs)
        if self.periodicity is not None and feats is not None:
            probs = self.periodicity.update(probs, feats, t)
        vote = self.voter.update(probs)
        return vote, self.counter.update(vote, t, frame)

    def new_source(self) -> None:
        """Another camera or file: what the last one showed is no evidence about this one. The smoothing, the exercise
        fold, the periodicity's window and a rep in progress start afresh; the day's counts and the set stay."""
        self.voter.reset()
        if self.fold is not None:
            self.fold.reset()
        self.periodicity = self._make_periodicity()
        if self.form is not None:
            self.form.reset()
        self.counter.forget_rep()

    def after_rest(self) -> None:
        """The person stood still a while (the quiet rest) and moves again: which exercise comes next is open (a
        circuit's next set), so the exercise fold starts afresh. A rest infers a few frames a second, and the fold's
        frame-by-frame average would otherwise hold the last set's exercise several times longer than without it."""
        if self.fold is not None:
            self.fold.reset()

    def totals(self) -> Totals:
        c = self.counter
        return Totals(c.day, dict(c.by_exercise), c.total)

    def restore(self, by_exercise: dict[str, int]) -> None:
        """Today's totals from the state store, after a restart."""
        self.counter.restore(by_exercise)

    def state(self) -> dict:
        """What the retained ``gym/state`` says: exercise, phase, set, today's totals."""
        return self.counter.state()

    def stop(self, t: float, frames: int) -> list[Event]:
        """The source ended: close the set in progress."""
        return self.counter.stop(t, frames)

    # -- commands (MQTT gym/cmd/...) -----------------------------------------------------------------

    def command(self, name: str, payload: str, t: float, frame: int) -> list[Event] | None:
        """Apply a command; the events it makes, or None where it was refused (logged)."""
        if name == "reset":
            if payload not in ("", "set", "day"):
                refused.warning("cmd/reset: expected 'set' or 'day', got %r", payload[:64])
                return None
            return self.counter.reset(t, frame, new_day=payload == "day")
        if name == "exercise":
            if payload != "auto" and payload not in self.counter.exercises:
                refused.warning("cmd/exercise: expected 'auto' or one of %s, got %r", ", ".join(self.counter.exercises), payload[:64])
                return None
            self.counter.forced_exercise = None if payload == "auto" else payload
            return []
        refused.warning("unknown command %r", name[:64])
        return None

    # -- a reload: new settings for one stage, the counts kept ---------------------------------------

    def reconfigure(self, cfg: Config) -> None:
        old, self.cfg = self.cfg, cfg
        if cfg.voting != old.voting:
            self._set_voting(cfg.voting)
        if cfg.periodicity != old.periodicity:
            self.periodicity = self._make_periodicity()  # a new window starts afresh
        if cfg.counter != old.counter:
            self._set_counter(cfg.counter)
        if cfg.form != old.form:
            self._set_form(cfg)

    def _make_form(self) -> FormMeter | None:
        return FormMeter(self.cfg.form) if self.cfg.form.enabled and self._posed else None

    def _set_form(self, cfg: Config) -> None:
        """New thresholds at once; measuring on or off (the poses kept so far go with it)."""
        if self.form is not None and cfg.form.enabled:
            self.form.cfg = cfg.form
        else:
            self.form = self._make_form()
        self.counter.form = self.form

    def pose_stage(self, runs: bool) -> None:
        """Whether a pose stage runs: without one there is nothing to measure, and the reps carry no measures."""
        if runs != self._posed:
            self._posed = runs
            self._set_form(self.cfg)

    def _set_voting(self, cfg: VotingConfig) -> None:
        self.voter.reconfigure(cfg)
        if self.fold is None or not cfg.fold_exercises:
            self.fold = self._make_fold()
        else:
            self.fold.alpha = cfg.exercise_alpha

    def _set_counter(self, cfg: CounterConfig) -> None:
        if cfg.exercise == self.counter.cfg.exercise and cfg.exercises == self.counter.cfg.exercises:
            self.counter.cfg = cfg
        else:  # another set of exercises counted, or a three-class model's exercise: the labels mean something else now
            self._rebuild(self.labels.labels, cfg)

    def set_model(self, labels: tuple[str, ...], feature_dim: int | None) -> None:
        """A new model: new features always (periodicity starts afresh), new labels maybe (new voter and counter)."""
        self.feature_dim = feature_dim
        if labels != self.labels.labels:
            self.voter = Voter(labels, self.cfg.voting)
            self._rebuild(labels, self.cfg.counter)
            self.fold = self._make_fold()
        self.periodicity = self._make_periodicity()

    def _rebuild(self, labels: tuple[str, ...], cfg: CounterConfig) -> None:
        old = self.counter
        self.labels = LabelSet.of(labels, cfg.exercise)
        self.counter = RepCounter(self.labels, cfg, old.today, self.form)
        self.counter.day = old.day
        self.counter.restore({ex: n for ex, n in old.by_exercise.items() if ex in self.counter.exercises})


def replay(labels: tuple[str, ...], cfg: Config, frames: list[Recorded],
           landmarks: list[np.ndarray | None] | None = None) -> RepCounter:
    """Count recorded (frame id, time, probabilities, features) under ``cfg`` as the pipeline would have,
    without running the model again; ``landmarks``: each frame's pose, for the rep measures (none: reps unmeasured)."""
    dim = next((len(f[3]) for f in frames if f[3] is not None), None)
    chain = Chain(labels, dim, cfg)
    for i, (fid, t, probs, feats) in enumerate(frames):
        chain.step(probs, feats, t, fid, landmarks[i] if landmarks else None)
    if frames:
        chain.stop(frames[-1][1], len(frames))
    return chain.counter
