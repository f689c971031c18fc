"""How a camera frame becomes the model's input: the whole frame, or a crop around what moved.

Part of the model's contract (``ModelInfo.framing``): training decodes its clips through the
same ``Framer`` the daemon's capture thread runs, so a model sees the same kind of picture in
both. The motion crop is there because the whole frame lets a model learn the room instead of
the posture: on the train split's clips, a linear probe on crops told a held-out source's phases
apart better than one on whole frames (README, "Motion crop").

The crop follows the person, not the pixels of one frame: the absolute frame difference at a
small size, averaged over ``motion_tau_s``, gives where things moved lately; the box spans the
middle of that motion's mass (``quantile`` cut from each side), grows by ``margin``, keeps the
frame's aspect and at least ``min_scale`` of its size, and eases towards each new target over
``box_tau_s``. Where nothing moves, it stays where it was; a new stream starts from the whole frame.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any

import cv2
import numpy as np

from .errors import UserError
from .video import downscale

MODES = ("full", "motion")
MOTION_WIDTH = 96  # width of the motion map; its height follows the frame's aspect
NOISE_FLOOR = 2.0  # grey levels above the map's median that count as motion (sensor and codec noise)
MIN_MOTION = 0.02  # mean motion per map pixel below which the box stays put


@dataclass(frozen=True)
class Framing:
    mode: str = "full"  # full | motion
    motion_tau_s: float = 1.5
    box_tau_s: float = 1.0
    margin: float = 0.15
    min_scale: float = 0.3
    quantile: float = 0.05

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise UserError(f"framing must be one of {', '.join(MODES)}, got {self.mode!r}")
        if not (0 < self.min_scale <= 1 and 0 <= self.quantile < 0.5 and self.margin >= 0
                and self.motion_tau_s > 0 and self.box_tau_s > 0):
            raise UserError(f"framing parameters out of range: {self}")

    def to_dict(self) -> dict:
        return asdict(self) if self.mode != "full" else {"mode": "full"}

    @classmethod
    def from_dict(cls, d: dict | None) -> Framing:
        """From a report or the IR's runtime info; absent (older models) means the whole frame."""
        if not d:
            return cls()
        known = {f.name for f in fields(cls)}
        try:
            values: dict[str, Any] = {k: (str(v) if k == "mode" else float(v)) for k, v in d.items() if k in known}
            return cls(**values)
        except (TypeError, ValueError) as e:
            raise UserError(f"malformed framing {d!r}: {e}") from None


class Framer:
    """One stream's frames to the model's size under a ``Framing``; keeps the motion state between calls."""

    def __init__(self, framing: Framing, size: tuple[int, int]) -> None:
        self.framing = framing
        self.size = size
        self.reset()

    @property
    def wh(self) -> tuple[int, int]:
        """The picture it makes, width and height."""
        return self.size

    def reset(self) -> None:
        """A new stream (a reconnect, another file): forget the motion, start from the whole frame."""
        self._prev: np.ndarray | None = None
        self._motion: np.ndarray | None = None
        self._t = 0.0
        self._shape: tuple[int, ...] = ()
        self.box: np.ndarray | None = None  # x0, y0, x1, y1 in the frame's pixels

    def __call__(self, frame: np.ndarray, t: float, dst: np.ndarray | None = None) -> np.ndarray:
        """The model's input for ``frame`` (BGR) seen at ``t`` seconds of the stream's own time."""
        if self.framing.mode == "full":
            return downscale(frame, self.size, dst=dst)
        x0, y0, x1, y1 = (int(round(v)) for v in self._update(frame, t))
        return downscale(frame[y0:y1, x0:x1], self.size, dst=dst)

    def _update(self, frame: np.ndarray, t: float) -> np.ndarray:
        f = self.framing
        H, W = frame.shape[:2]
        h = max(1, round(MOTION_WIDTH * H / W))
        grey = cv2.cvtColor(downscale(frame, (MOTION_WIDTH, h)), cv2.COLOR_BGR2GRAY).astype(np.float32)
        if self._prev is None or self._shape != frame.shape or self.box is None:
            self.reset()
            self.box = box = np.array([0.0, 0.0, W, H])
            self._shape = frame.shape
        else:
            box = self.box
            dt = max(t - self._t, 1e-3)
            diff = cv2.absdiff(grey, self._prev)
            if self._motion is None:
                self._motion = diff
            else:
                self._motion += (1 - math.exp(-dt / f.motion_tau_s)) * (diff - self._motion)
            target = self._target(self._motion, W, H)
            if target is not None:
                box += (1 - math.exp(-dt / f.box_tau_s)) * (target - box)
        self._prev, self._t = grey, t
        return box

    def _target(self, motion: np.ndarray, W: int, H: int) -> np.ndarray | None:
        """The box the motion map asks for, or None where too little moved to say."""
        f = self.framing
        e = np.maximum(motion - (np.median(motion) + NOISE_FLOOR), 0)
        total = float(e.sum())
        if total <= MIN_MOTION * e.size:
            return None
        mh, mw = e.shape
        cx = np.cumsum(e.sum(0)) / total
        cy = np.cumsum(e.sum(1)) / total
        x0, x1 = np.searchsorted(cx, f.quantile), np.searchsorted(cx, 1 - f.quantile) + 1
        y0, y1 = np.searchsorted(cy, f.quantile), np.searchsorted(cy, 1 - f.quantile) + 1
        bx0, bx1, by0, by1 = x0 * W / mw, x1 * W / mw, y0 * H / mh, y1 * H / mh
        grow_x, grow_y = f.margin * (bx1 - bx0), f.margin * (by1 - by0)
        bx0, bx1, by0, by1 = bx0 - grow_x, bx1 + grow_x, by0 - grow_y, by1 + grow_y
        scale = min(max((bx1 - bx0) / W, (by1 - by0) / H, f.min_scale), 1.0)
        w, h = scale * W, scale * H
        left = min(max((bx0 + bx1 - w) / 2, 0.0), W - w)
        top = min(max((by0 + by1 - h) / 2, 0.0), H - h)
        return np.array([left, top, left + w, top + h])
