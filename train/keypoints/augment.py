"""Augmentation of a clip's keypoints: the same movement as another camera would have seen it.

The mirror swaps left and right. A new view turns the world landmarks (metres, hips at the
origin, the camera's axes) about the vertical axis by any angle and tilts them a little,
projects them back onto the image around the hips' own path in the frame (so a squat still
sinks), at the clip's own pixels per metre: a side-view push-up becomes a front or oblique one,
which is the view the training clips have least of.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from homegym.core import keypoint_features as kf
from homegym.core.pose_track import PoseTrack

# MediaPipe's left/right pairs: a mirrored person is the same exercise
MIRROR = np.array([0, 4, 5, 6, 1, 2, 3, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15, 18, 17, 20, 19, 22, 21, 24, 23, 26, 25, 28, 27, 30, 29,
                   32, 31])
MAX_TILT_DEG = 17.0


@dataclass(frozen=True)
class View:
    xy: np.ndarray  # (n, 33, 2) pixels
    world: np.ndarray  # (n, 33, 3) metres
    visibility: np.ndarray  # (n, 33)


def original(track: PoseTrack) -> View:
    return View(track.xy, track.world, track.landmarks[..., 3])


def mirrored(track: PoseTrack) -> View:
    xy = track.xy[:, MIRROR].copy()
    xy[..., 0] = track.width - xy[..., 0]
    world = track.world[:, MIRROR].copy()
    world[..., 0] = -world[..., 0]
    return View(xy, world, track.landmarks[:, MIRROR, 3])


def _rotation(yaw: float, tilt: float) -> np.ndarray:
    cy, sy, ct, st = np.cos(yaw), np.sin(yaw), np.cos(tilt), np.sin(tilt)
    about_vertical = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])  # image y points down: the vertical axis
    about_x = np.array([[1, 0, 0], [0, ct, -st], [0, st, ct]])
    return about_x @ about_vertical


def rotated(track: PoseTrack, yaw: float, tilt: float) -> View:
    """The clip as a camera turned ``yaw`` radians about the person and tilted ``tilt`` would have seen it."""
    xy = track.xy
    hips = (xy[:, kf.L_HIP] + xy[:, kf.R_HIP]) / 2  # (n, 2) the hips' path in the frame, pixels
    world = track.world @ _rotation(yaw, tilt).T
    ok = track.found & np.isfinite(xy).all(axis=(1, 2)) & np.isfinite(track.world).all(axis=(1, 2))
    torso_px = np.linalg.norm((xy[:, kf.L_SH] + xy[:, kf.R_SH]) / 2 - hips, axis=-1)
    torso_m = np.linalg.norm((track.world[:, kf.L_SH] + track.world[:, kf.R_SH]) / 2
                             - (track.world[:, kf.L_HIP] + track.world[:, kf.R_HIP]) / 2, axis=-1)
    ratio = torso_px[ok] / np.maximum(torso_m[ok], 1e-6)
    per_metre = float(np.median(ratio)) if ratio.size else 1.0
    new_xy = hips[:, None, :] + per_metre * world[..., :2]
    return View(new_xy.astype(np.float32), world.astype(np.float32), track.landmarks[..., 3])


def random_views(track: PoseTrack, n: int, rng: np.random.Generator) -> list[View]:
    """``n`` views at yaws spread around the person (a random offset), each with a random tilt."""
    offset = rng.uniform(0, 2 * np.pi)
    return [rotated(track, offset + 2 * np.pi * i / n, np.deg2rad(rng.uniform(-MAX_TILT_DEG, MAX_TILT_DEG))) for i in range(n)]
