"""The rotated square crop around the person, and the transforms into it and back.

MediaPipe's AlignmentPointsRects and RectTransformation: centred on the hips' centre, as wide
as twice the distance to the body-radius point (times ``scale``), and turned so that the line
from the hips to that point points up. So a person lying horizontally in a push-up gets an
upright crop. Everything is in canvas-normalised coordinates; the canvas is square, so a
rotation there is a rotation in pixels too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class Roi:
    cx: float
    cy: float
    size: float  # side of the square, canvas-normalised
    rotation: float  # radians

    def corners(self) -> np.ndarray:
        """(4, 2) corners, canvas-normalised: top-left, top-right, bottom-right, bottom-left of the crop."""
        u = np.array([[-0.5, -0.5], [0.5, -0.5], [0.5, 0.5], [-0.5, 0.5]], np.float32)
        return crop_to_canvas(self, u + 0.5)


def _normalize(angle: float) -> float:
    return angle - 2 * math.pi * math.floor((angle + math.pi) / (2 * math.pi))


def roi_from_points(centre: np.ndarray, scale_point: np.ndarray, scale: float) -> Roi:
    dx, dy = float(scale_point[0] - centre[0]), float(scale_point[1] - centre[1])
    rotation = _normalize(math.pi / 2 - math.atan2(-dy, dx))
    size = 2 * math.hypot(dx, dy) * scale
    return Roi(float(centre[0]), float(centre[1]), size, rotation)


def crop_to_canvas(roi: Roi, uv: np.ndarray) -> np.ndarray:
    """Crop-normalised (u, v) (0..1 across the crop) to canvas-normalised (x, y): MediaPipe's LandmarkProjection."""
    c, s = math.cos(roi.rotation), math.sin(roi.rotation)
    x, y = uv[..., 0] - 0.5, uv[..., 1] - 0.5
    out = np.empty_like(uv, dtype=np.float32)
    out[..., 0] = (c * x - s * y) * roi.size + roi.cx
    out[..., 1] = (s * x + c * y) * roi.size + roi.cy
    return out


def warp(canvas: np.ndarray, roi: Roi, out_size: int, dst: np.ndarray | None = None) -> np.ndarray:
    """The crop as an ``out_size`` square picture (edge pixels repeated outside the canvas, as MediaPipe), into ``dst``
    where given (the landmark model's own input tensor)."""
    n = canvas.shape[0]
    src = crop_to_canvas(roi, np.array([[0, 0], [1, 0], [0, 1]], np.float32)) * n
    m = cv2.getAffineTransform(src.astype(np.float32), np.array([[0, 0], [out_size, 0], [0, out_size]], np.float32))
    return cv2.warpAffine(canvas, m, (out_size, out_size), dst=dst, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
