"""A body's measures per frame from the pose stage's landmarks: joint angles in degrees with how well each joint was
seen, and heights. The label rule (train/from_reps.py) reads them; they carry the same names as the fields of
../shared/data's MediaPipe traces (``elbow``, ``ve``, ``knee``, ``vk``, ``hipang``, ``sh_y``, ``hip_y``, ``nose_y``),
so either source serves.

A joint's angle is the one of the side seen better (a side view hides the far limb), except where both arms
matter: ``elbow_min`` is the more bent elbow of the two seen (alternating curls lift one arm at a time), and
``shoulder`` the mean opening of both armpits (a jumping jack's arms go up together).
"""

from __future__ import annotations

import numpy as np

from .keypoint_features import L_AN, L_EL, L_HIP, L_KN, L_SH, L_WR, NOSE, R_AN, R_EL, R_HIP, R_KN, R_SH, R_WR, _angle
from .pose_track import PoseTrack

SEEN = 0.5  # a joint's visibility at or above which its angle is trusted
FIELDS = ("elbow", "ve", "elbow_min", "knee", "vk", "hipang", "shoulder", "sh_y", "hip_y", "nose_y", "wr_y")


def _degrees(a: np.ndarray, j: np.ndarray, b: np.ndarray) -> np.ndarray:
    return 180.0 * _angle(a, j, b)  # the features' angle (radians / pi), in degrees


def _sides(xy: np.ndarray, vis: np.ndarray, left: tuple[int, int, int], right: tuple[int, int, int]) -> tuple[np.ndarray, ...]:
    """Each side's angle at its middle landmark and its visibility (the least of its three landmarks)."""
    out = []
    for a, j, b in (left, right):
        out += [_degrees(xy[:, a], xy[:, j], xy[:, b]), vis[:, [a, j, b]].min(1)]
    return tuple(out)


def _better(left: np.ndarray, v_left: np.ndarray, right: np.ndarray, v_right: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    pick = v_left >= v_right
    return np.where(pick, left, right), np.where(pick, v_left, v_right)


def measures(track: PoseTrack, n: int) -> dict[str, np.ndarray]:
    """Every field over source frames [0, n), NaN where the pose stage found nobody or did not run."""
    xy, vis = track.xy.astype(np.float64), track.landmarks[..., 3].astype(np.float64)
    el, vel, er, ver = _sides(xy, vis, (L_SH, L_EL, L_WR), (R_SH, R_EL, R_WR))
    kl, vkl, kr, vkr = _sides(xy, vis, (L_HIP, L_KN, L_AN), (R_HIP, R_KN, R_AN))
    hl, vhl, hr, vhr = _sides(xy, vis, (L_SH, L_HIP, L_KN), (R_SH, R_HIP, R_KN))
    sl, _, sr, _ = _sides(xy, vis, (L_HIP, L_SH, L_EL), (R_HIP, R_SH, R_EL))
    elbow, ve = _better(el, vel, er, ver)
    knee, vk = _better(kl, vkl, kr, vkr)
    hipang, _ = _better(hl, vhl, hr, vhr)
    seen = np.stack([np.where(vel >= SEEN, el, np.nan), np.where(ver >= SEEN, er, np.nan)], axis=1)
    y = track.landmarks[..., 1].astype(np.float64)
    per_row = {
        "elbow": elbow, "ve": ve, "elbow_min": _nanmin(seen), "knee": knee, "vk": vk, "hipang": hipang,
        "shoulder": (sl + sr) / 2, "sh_y": (y[:, L_SH] + y[:, R_SH]) / 2, "hip_y": (y[:, L_HIP] + y[:, R_HIP]) / 2,
        "nose_y": y[:, NOSE], "wr_y": (y[:, L_WR] + y[:, R_WR]) / 2,
    }
    out = {k: np.full(n, np.nan) for k in FIELDS}
    rows = track.found & (track.frame >= 0) & (track.frame < n)
    for k, v in per_row.items():
        out[k][track.frame[rows]] = v[rows]
    return out


def _nanmin(a: np.ndarray) -> np.ndarray:
    out = np.full(len(a), np.nan)
    any_seen = np.isfinite(a).any(1)
    out[any_seen] = np.nanmin(a[any_seen], axis=1)
    return out
