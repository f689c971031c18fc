"""A camera frame of any shape on the pose stage's square canvas, and the way back.

The pose stage works on one square picture (``pose.frame_size``): the detector's 224-pixel
input is then a plain resize of it, and MediaPipe's rotations, which it does in coordinates
normalised by width and height apart, are exact. Landmarks on the canvas map back to the frame
through ``to_frame``. Training (pose extraction) and the daemon's capture use this one object.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class Box:
    """Where the frame lies on the canvas, in canvas pixels."""

    x: int
    y: int
    w: int
    h: int


def fit(frame: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``frame`` resized to ``size`` (w, h): exact 2x area halvings while it is at least twice as big, then one
    linear step (under 2x, linear barely aliases, and fractional INTER_AREA is OpenCV's slow path: 1.1 ms against
    0.2 ms for 640x480 to 512x384, on every frame of a camera)."""
    w, h = size
    while frame.shape[1] >= 2 * w and frame.shape[0] >= 2 * h:
        frame = cv2.resize(frame, (frame.shape[1] // 2, frame.shape[0] // 2), interpolation=cv2.INTER_AREA)
    return cv2.resize(frame, size, interpolation=cv2.INTER_LINEAR)


class Letterbox:
    def __init__(self, size: int) -> None:
        self.size = size
        self.box = Box(0, 0, size, size)
        self._shape: tuple[int, int] | None = None

    @property
    def wh(self) -> tuple[int, int]:
        """The picture it makes, width and height (a square)."""
        return self.size, self.size

    def box_for(self, h: int, w: int) -> Box:
        s = self.size / max(h, w)
        bw, bh = max(1, round(w * s)), max(1, round(h * s))
        return Box((self.size - bw) // 2, (self.size - bh) // 2, bw, bh)

    def __call__(self, frame: np.ndarray, t: float = 0.0, dst: np.ndarray | None = None) -> np.ndarray:
        """``frame`` scaled into the canvas (``dst``, or a new one), black around it. ``t`` is unused: the
        call matches the classifier's Framer, so capture runs either."""
        h, w = frame.shape[:2]
        if self._shape != (h, w):  # a new source, or a camera that changed its resolution
            self._shape = (h, w)
            self.box = self.box_for(h, w)
        b = self.box
        out = dst if dst is not None else np.empty((self.size, self.size, 3), np.uint8)
        # the whole canvas is written, borders included: the ring's slots are reused, nothing stale stays
        out[:b.y], out[b.y + b.h:], out[b.y:b.y + b.h, :b.x], out[b.y:b.y + b.h, b.x + b.w:] = 0, 0, 0, 0
        inner = out[b.y:b.y + b.h, b.x:b.x + b.w]
        if inner.flags.c_contiguous and frame.shape[1] < 2 * b.w:  # a landscape frame: scaled straight into the canvas
            cv2.resize(frame, (b.w, b.h), dst=inner, interpolation=cv2.INTER_LINEAR)
        else:
            inner[:] = fit(frame, (b.w, b.h))
        return out

    def reset(self) -> None:
        """Nothing to forget between connections (a ``Framer`` has its motion crop): the capture calls both alike."""

    def to_frame(self, xy: np.ndarray) -> np.ndarray:
        """Canvas-normalised (x, y) to frame-normalised (x, y), MediaPipe's convention: 0..1 across each side."""
        b = self.box
        out = np.array(xy, np.float32, copy=True)
        out[..., 0] = (out[..., 0] * self.size - b.x) / b.w
        out[..., 1] = (out[..., 1] * self.size - b.y) / b.h
        return out
