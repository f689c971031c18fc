"""Landmark smoothing: MediaPipe's velocity-scaled one-euro filter and its visibility low-pass.

A one-euro filter smooths hard when a landmark is still (jitter goes) and little when it moves
fast (no lag in a rep). MediaPipe scales the velocity by the person's size in pixels, so a
person far from the camera is smoothed like one close to it; the same here, on canvas pixels.
Every landmark's coordinates are filtered at once (one array); a lost person resets the filter.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class OneEuroParams:
    min_cutoff: float
    beta: float
    derivative_cutoff: float = 1.0
    scale_by_size: bool = True  # divide the velocity by the person's size (MediaPipe's value scaling)


# MediaPipe's pose_landmark_filtering.pbtxt: the two landmarks that place the crop, the world landmarks. The landmarks'
# own filter and the visibility's low-pass are pose.smoothing's keys in the config.
AUXILIARY = OneEuroParams(0.01, 10.0)
WORLD = OneEuroParams(0.1, 40.0, scale_by_size=False)


def _alpha(cutoff: np.ndarray | float, dt: float) -> np.ndarray | float:
    tau = 1.0 / (2 * math.pi * cutoff)
    return 1.0 / (1.0 + tau / dt)


class OneEuro:
    """One-euro filter over an array of values sharing one clock and one size."""

    def __init__(self, p: OneEuroParams) -> None:
        self.p = p
        self.reset()

    def reset(self) -> None:
        self._x: np.ndarray | None = None  # last filtered value
        self._raw: np.ndarray | None = None  # last raw value
        self._dx: np.ndarray | None = None  # last filtered velocity
        self._t: float | None = None

    def __call__(self, value: np.ndarray, t: float, size: float = 1.0) -> np.ndarray:
        value = np.asarray(value, np.float64)
        if self._x is None or self._t is None or self._raw is None or self._dx is None:
            self._x, self._raw, self._dx, self._t = value.copy(), value.copy(), np.zeros_like(value), t
            return value.copy()
        dt = t - self._t
        if dt <= 0:  # a repeated or out-of-order time: MediaPipe passes the value through
            return value.copy()
        scale = 1.0 / size if self.p.scale_by_size and size > 1e-6 else 1.0
        dvalue = (value - self._raw) * scale / dt
        self._dx = self._dx + _alpha(self.p.derivative_cutoff, dt) * (dvalue - self._dx)
        cutoff = self.p.min_cutoff + self.p.beta * np.abs(self._dx)
        self._x = self._x + _alpha(cutoff, dt) * (value - self._x)
        self._raw, self._t = value.copy(), t
        return self._x.copy()


class LowPass:
    def __init__(self, alpha: float) -> None:
        self.alpha = alpha
        self._v: np.ndarray | None = None

    def reset(self) -> None:
        self._v = None

    def __call__(self, value: np.ndarray) -> np.ndarray:
        self._v = value.copy() if self._v is None else self.alpha * value + (1 - self.alpha) * self._v
        return self._v.copy()


def object_size(points_px: np.ndarray) -> float:
    """MediaPipe's object scale: the mean of the landmarks' bounding box's width and height, in pixels."""
    span = points_px[:, :2].max(0) - points_px[:, :2].min(0)
    return float(span.mean())
