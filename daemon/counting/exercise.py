"""Exercise folding, between inference and voting: the phase decided fast, the exercise slowly.

A multi-exercise model often knows that a frame is a bottom before it knows whose: a
push-up's bottom can read half ``pushup_down``, half ``squat_down``, so neither
label reaches its enter threshold and the rep is lost. Counting needs the phase at
frame rate but the exercise only at set level. So the exercise of the moment is
the one with the most up+down probability under a slow EMA, and each frame's
probabilities are folded onto it (a forced exercise is the counter's business: it
ignores the others, so their reps must stay theirs): all the ``*_up`` mass onto its
up label, all the ``*_down`` mass onto its down label, ``neither`` as it is. A
model with one exercise passes through unchanged.
"""

from __future__ import annotations

import numpy as np

from homegym.core.exercises import START, TURN
from homegym.core.labels import LabelSet


class ExerciseFold:
    def __init__(self, labels: LabelSet, alpha: float) -> None:
        self.alpha = alpha  # weight of the newest frame in the exercise decision
        self.exercises = labels.exercises
        self._ups = np.array(labels.indices(START))
        self._downs = np.array(labels.indices(TURN))
        self._up_of = {ex: labels.index(ex, START) for ex in self.exercises}
        self._down_of = {ex: labels.index(ex, TURN) for ex in self.exercises}
        self._others = np.array(labels.indices(None))
        self._mass: np.ndarray | None = None
        self.current: str | None = None

    def reset(self) -> None:
        """A new source: no exercise leads yet."""
        self._mass, self.current = None, None

    @property
    def active(self) -> bool:
        return len(self.exercises) > 1

    def update(self, probs: np.ndarray) -> np.ndarray:
        if not self.active:
            return probs
        mass = np.array([probs[self._up_of[ex]] + probs[self._down_of[ex]] for ex in self.exercises])
        self._mass = mass if self._mass is None else self.alpha * mass + (1 - self.alpha) * self._mass
        self.current = self.exercises[int(np.argmax(self._mass))]
        out = np.zeros_like(probs)
        out[self._others] = probs[self._others]
        out[self._up_of[self.current]] = probs[self._ups].sum()
        out[self._down_of[self.current]] = probs[self._downs].sum()
        return out
