"""A pinhole camera looking at the person, and the random placement of it."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Camera:
    position: np.ndarray
    rot: np.ndarray  # rows: right, up, forward (world to camera)
    focal: float  # pixels
    cx: float
    cy: float

    @classmethod
    def look_at(cls, position: np.ndarray, target: np.ndarray, hfov_deg: float, size: tuple[int, int]) -> Camera:
        fwd = target - position
        fwd = fwd / np.linalg.norm(fwd)
        right = np.cross(fwd, np.array([0.0, 1.0, 0.0]))
        right /= np.linalg.norm(right)
        up = np.cross(right, fwd)
        w, h = size
        focal = (w / 2) / math.tan(math.radians(hfov_deg) / 2)
        return cls(position, np.stack([right, up, fwd]), focal, w / 2, h / 2)

    def to_cam(self, pts: np.ndarray) -> np.ndarray:
        """World points (N, 3) to camera coordinates (N, 3): x right, y up, z depth."""
        return (pts - self.position) @ self.rot.T

    def project(self, pts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """World points (N, 3) to pixel coordinates (N, 2) and depth (N,)."""
        c = self.to_cam(pts)
        z = np.maximum(c[:, 2], 1e-3)
        uv = np.stack([self.cx + self.focal * c[:, 0] / z, self.cy - self.focal * c[:, 1] / z], axis=1)
        return uv, z


VIEWS = ("any", "side")


def random_camera(
    rng: np.random.Generator, target: np.ndarray, extent: float, size: tuple[int, int], side_bias: float = 0.6,
    view: str = "any",
) -> Camera:
    """A camera at a random azimuth, elevation and distance that frames ``extent`` metres around ``target``.

    Side and oblique views are favoured (as in home footage), but front and back views occur. ``view="side"``: square
    to the side at about hip height (within 10 degrees), the placement that shows a squat's depth as it is.
    """
    if view == "side":
        az, el = rng.choice([90.0, 270.0]) + rng.uniform(-10, 10), rng.uniform(-3, 10)
    elif rng.random() < side_bias:
        az = rng.choice([90.0, 270.0]) + rng.uniform(-35, 35)
        el = rng.uniform(-3, 28)
    else:
        az = rng.uniform(0, 360)
        el = rng.uniform(-3, 28)
    hfov = rng.uniform(48, 78)
    fill = rng.uniform(0.45, 0.9)  # share of the frame's width the person spans
    dist = extent / (fill * 2 * math.tan(math.radians(hfov) / 2))
    dist = max(dist, 1.2)
    a, e = math.radians(az), math.radians(el)
    offset = np.array([math.cos(e) * math.cos(a), math.sin(e), math.cos(e) * math.sin(a)]) * dist
    aim = target + rng.normal(0, 0.06 * extent, 3) * np.array([1.0, 0.5, 1.0])
    return Camera.look_at(target + offset, aim, hfov, size)
