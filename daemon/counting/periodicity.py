"""Periodicity: the movement's own repetition, fused with the classifier's phases.

On people and rooms it never saw, the classifier often knows that a set is running,
and of which exercise, but not which frame is a top and which a bottom. The pooled
features the classifier's head reads swing back and forth with every rep, though:
over the last few seconds, their main direction of variation (the window's first
principal component) is, for someone repeating a movement, that movement. So the
phase comes from where the newest frame lies along it (in the outer 30 % of its
range at either end, as the labels define a top and a bottom; in between, the
classifier's own split stands, so a half-deep dip is not a rep), and the classifier
keeps the rest: how much of the frame is an exercise at all (its up+down mass), which
exercise (folding), and which end of the swing is the bottom (the sign of the
swing's correlation with the classifier's own down-minus-up over the window).
Where the two do not agree (a curl: the swing is the forearm, the classifier sees
a person standing throughout), the classifier's probabilities pass through as they
are, and so they do until the window holds enough frames.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from homegym.core.exercises import START, TURN
from homegym.core.labels import LabelSet

from ..config.settings import PeriodicityConfig


@dataclass(frozen=True)
class Swing:
    position: float  # the newest frame along the swing: -1 at the window's top, +1 at its bottom
    agreement: float  # correlation of the swing with the classifier's down-minus-up, oriented (>= 0)


class Periodicity:
    MAX_FPS = 60  # the window's capacity in frames per second of window_s
    MIN_FRAMES = 8  # fewer frames say nothing about a swing
    ITERATIONS = 2  # power-iteration steps a frame, from the last frame's direction
    RANGE = (5, 95)  # percentiles of the window's positions taken as its top and bottom
    MARGIN = 0.4  # |position| beyond which the swing calls a frame top or bottom: the outer 30 % of the range
    CUT = 6.0  # a frame-to-frame change this many times the usual one is a cut (or a jumped camera)

    def __init__(self, labels: LabelSet, dim: int, cfg: PeriodicityConfig) -> None:
        self._ups = np.array(labels.indices(START), dtype=int)
        self._downs = np.array(labels.indices(TURN), dtype=int)
        self._pairs = labels.pairs()  # one (up, down) per exercise
        self.dim = dim
        self.reconfigure(cfg)

    def reconfigure(self, cfg: PeriodicityConfig) -> None:
        """A new window starts empty: its frames were kept for the old length."""
        self.cfg = cfg
        self._cap = cap = max(self.MIN_FRAMES, math.ceil(cfg.window_s * self.MAX_FPS))
        # Each frame is written twice, at its slot and a capacity further on, so the newest frames are
        # always one contiguous view: the window is read in place, never gathered into a copy.
        self._x = np.zeros((2 * cap, self.dim), np.float32)
        self._q = np.zeros(2 * cap)
        self._t = np.zeros(2 * cap)
        self._i = 0  # frames taken
        self._first = 0  # the first frame of the current window (a cut starts it again)
        self._v: np.ndarray | None = None
        self._step: float | None = None  # the usual frame-to-frame change (a slow average)
        self.last: Swing | None = None

    def _window(self, t: float) -> slice:
        """The frames of the last ``window_s`` seconds, oldest first, as a slice of the doubled ring
        (capture times only grow, so the window's start is a binary search)."""
        end = (self._i - 1) % self._cap + self._cap + 1
        start = end - min(self._i - self._first, self._cap)
        return slice(start + int(np.searchsorted(self._t[start:end], t - self.cfg.window_s)), end)

    def _swing(self, t: float) -> Swing | None:
        window = self._window(t)
        x, q = self._x[window], self._q[window]
        if len(x) < self.MIN_FRAMES:
            return None
        mean = x.mean(axis=0)
        newest = x[-1]
        v, iterations = self._v, self.ITERATIONS
        if v is None:  # the first window: start from the newest frame's offset, and iterate longer
            v, iterations = newest - mean, 20
        for _ in range(iterations):
            w = x @ v - mean @ v
            v = x.T @ w - mean * w.sum()
            norm = float(np.linalg.norm(v))
            if norm == 0.0:
                return None
            v /= norm
        if self._v is not None and float(v @ self._v) < 0:
            v = -v  # the same direction as last frame's, so the position does not jump sign
        self._v = v
        proj = x @ v
        lo, hi = _percentiles(proj, self.RANGE)
        p, d = proj - proj.mean(), q - q.mean()
        pp, dd = float(p @ p), float(d @ d)
        if hi <= lo or pp == 0.0 or dd <= len(q) * self.cfg.min_phase_swing ** 2:  # q's std <= min_phase_swing
            return None
        corr = float(p @ d) / math.sqrt(pp * dd)
        # Against the swing's range, not its mean: a set with long holds at the top (or a first rep
        # after a pause) has its mean near the top, and the top must still read as the top.
        position = float(np.clip((newest @ v - (hi + lo) / 2) / ((hi - lo) / 2), -3.0, 3.0))
        return Swing(position if corr >= 0 else -position, abs(corr))

    def _cut_check(self, feats: np.ndarray) -> None:
        """After a cut the window's older frames show another picture, and the swing between the two
        would be all the window sees: start the window again at the cut."""
        if self._i == 0:
            return
        step = float(np.linalg.norm(feats - self._x[(self._i - 1) % self._cap]))
        if self._step is not None and self._i > self.MIN_FRAMES and step > self.CUT * self._step:
            self._first = self._i
            self._v = None
            return
        self._step = step if self._step is None else 0.9 * self._step + 0.1 * step

    def update(self, probs: np.ndarray, feats: np.ndarray, t: float) -> np.ndarray:
        """Take one frame; returns its probabilities, the phase split by the swing where it agrees."""
        q = float(probs[self._downs].sum() - probs[self._ups].sum())
        self._cut_check(feats)
        for slot in (self._i % self._cap, self._i % self._cap + self._cap):
            self._x[slot] = feats
            self._q[slot] = q
            self._t[slot] = t
        self._i += 1
        self.last = swing = self._swing(t)
        if swing is None or swing.agreement < self.cfg.min_agreement:
            return probs
        # The exercise of the frame: the pair with the most phase mass (after folding, the only one).
        up, down = max(self._pairs, key=lambda p: probs[p[0]] + probs[p[1]])
        cls_up, cls_down = float(probs[self._ups].sum()), float(probs[self._downs].sum())
        mass = cls_up + cls_down
        # The swing claims a frame for the bottom or the top only beyond MARGIN (the outer 30 % of its
        # range, as the labels define a bottom); a half-deep dip stays the classifier's to call.
        bottom = _sigmoid(self.cfg.sharpness * (swing.position - self.MARGIN))
        top = _sigmoid(self.cfg.sharpness * (-swing.position - self.MARGIN))
        rest = 1.0 - bottom - top  # > 0: the two claims never overlap
        out = probs.copy()
        out[self._ups] = 0.0
        out[self._downs] = 0.0
        out[up] = mass * top + rest * cls_up
        out[down] = mass * bottom + rest * cls_down
        return out


def _percentiles(values: np.ndarray, percents: tuple[float, float]) -> tuple[float, float]:
    """``np.percentile``'s linear interpolation, one sort for both: numpy's own spends more time in
    Python than in sorting a window's few hundred values."""
    s = np.sort(values)
    out = []
    for pct in percents:
        pos = (len(s) - 1) * pct / 100.0
        i = int(pos)
        j = min(i + 1, len(s) - 1)
        out.append(float(s[i] + (s[j] - s[i]) * (pos - i)))
    return out[0], out[1]


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, x))))
