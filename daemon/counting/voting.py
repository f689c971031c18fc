"""Temporal voting: per-frame class probabilities to a stable phase.

Three guards against a flicker becoming a phase change: smoothing (EMA or a window
average), hysteresis (a new phase must reach its *enter* threshold while the current
one has fallen to its *exit* threshold), and a minimum dwell (the new phase must win
for that many consecutive frames). The smoothing starts from an even prior, as if the
frames before the stream had favoured no label: a stream's first frames then weigh what
any frame weighs, and a flicker as long as the dwell at the very start is no phase (a
bottom there would become a rep at the next top). The smoothed probabilities go out too: the
counter uses them to see partial reps that never became a phase.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from homegym.core.errors import UserError

from ..config.settings import VotingConfig


@dataclass(frozen=True)
class Vote:
    phase: str | None  # the stable phase, None until the first one is settled
    changed: bool  # the phase changed at this frame
    smoothed: np.ndarray  # smoothed probabilities, in label order


def check_overrides(labels: tuple[str, ...], cfg: VotingConfig) -> None:
    """A ``voting.per_label`` key must be one of the model's labels: a stale one (a label of an older model, a typo)
    would silently tune nothing."""
    stale = [k for k in cfg.per_label if k not in labels]
    if stale:
        raise UserError(f"voting.per_label: {', '.join(stale)} is not a label of this model "
                        f"(its labels: {', '.join(labels)})")


class Voter:
    def __init__(self, labels: tuple[str, ...], cfg: VotingConfig) -> None:
        self.labels = labels
        self._prior = np.full(len(labels), 1.0 / len(labels))  # what the smoothing starts from: no label favoured
        self._ema = self._prior.copy()
        self._win: deque[np.ndarray] = deque()
        self.phase: int | None = None
        self._candidate: int | None = None
        self._streak = 0
        self.reconfigure(cfg)

    def reconfigure(self, cfg: VotingConfig) -> None:
        """New thresholds and smoothing (a reload); the phase and the smoothed state carry on."""
        check_overrides(self.labels, cfg)
        self.cfg = cfg
        self._enter = np.array([cfg.get(lab, "enter") for lab in self.labels])
        self._exit = np.array([cfg.get(lab, "exit") for lab in self.labels])
        self._dwell = [int(cfg.get(lab, "min_dwell")) for lab in self.labels]
        self._fill_window(list(self._win))

    def _fill_window(self, kept: list[np.ndarray]) -> None:
        """The window at its configured size: the newest of ``kept``, the even prior before them."""
        size = max(1, self.cfg.window)
        kept = kept[-size:]
        self._win = deque([self._prior] * (size - len(kept)) + kept, maxlen=size)
        self._win_sum = np.sum(self._win, axis=0)

    def reset(self) -> None:
        """A new source: no phase, the smoothing back at the even prior (the thresholds stay)."""
        self._ema = self._prior.copy()
        self._fill_window([])
        self.phase, self._candidate, self._streak = None, None, 0

    @property
    def delay_frames(self) -> float:
        """Typical frames between a true change and the vote following it (smoothing lag plus dwell)."""
        lag = (1 - self.cfg.ema_alpha) / self.cfg.ema_alpha if self.cfg.method == "ema" else (self.cfg.window - 1) / 2
        return lag + max(self._dwell)

    def _smooth(self, p: np.ndarray) -> np.ndarray:
        if self.cfg.method == "window":
            self._win_sum -= self._win[0]  # the window is always full (the prior before the stream's first frames)
            self._win.append(p)
            self._win_sum += p
            return self._win_sum / len(self._win)
        a = self.cfg.ema_alpha
        self._ema = a * p + (1 - a) * self._ema
        return self._ema

    def update(self, probs: np.ndarray) -> Vote:
        s = self._smooth(np.asarray(probs, dtype=np.float64))
        best = int(np.argmax(s))
        free = self.phase is None or s[self.phase] <= self._exit[self.phase]
        if best != self.phase and s[best] >= self._enter[best] and free:
            self._streak = self._streak + 1 if best == self._candidate else 1
            self._candidate = best
        else:
            self._candidate, self._streak = None, 0
        changed = False
        if self._candidate is not None and self._streak >= self._dwell[self._candidate]:
            self.phase, changed = self._candidate, True
            self._candidate, self._streak = None, 0
        return Vote(None if self.phase is None else self.labels[self.phase], changed, s)
