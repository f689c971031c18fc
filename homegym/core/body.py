"""A body's measures per frame from the pose stage's landmarks: joint angles in degrees with how well each joint was
seen, and heights. The label rule (train/from_reps.py) and the rep measures (daemon/counting/form.py) read them; they
carry the same names as the fields of ../shared/data's MediaPipe traces (``elbow``, ``ve``, ``knee``, ``vk``,
``hipang``, ``sh_y``, ``hip_y``, ``nose_y``), so either source serves.

A joint's angle is the one of the side seen better (a side view hides the far limb), except where both arms
matter: ``elbow_min`` is the more bent elbow of the two seen (alternating curls lift one arm at a time), ``elbow_max``
the straighter one (a single-arm press), and
``shoulder`` the mean opening of both armpits (a jumping jack's arms go up together). ``thigh`` is the thighs' slope
in degrees below the horizontal (0: hips level with the knees, -90: standing), from the legs seen. ``legs`` is the
legs' opening: the angle at the hips' midpoint between the two ankles (a jumping jack jumps the feet apart; a raise or
an upright row, which move the arms as a jack does, leave it still).
"""

from __future__ import annotations

import numpy as np

from .keypoint_features import L_AN, L_EL, L_HIP, L_KN, L_SH, L_WR, NOSE, R_AN, R_EL, R_HIP, R_KN, R_SH, R_WR, _angle
from .pose_track import PoseTrack

SEEN = 0.5  # a joint's visibility at or above which its angle is trusted
ANGLES = ("elbow", "elbow_min", "elbow_max", "knee", "hipang", "shoulder", "thigh", "legs")  # in degrees
GRADE = {"elbow": "ve", "elbow_min": "vem", "elbow_max": "vem", "knee": "vk", "hipang": "vh", "shoulder": "vs",
         "thigh": "vt", "legs": "vl"}  # angle -> visibility
FIELDS = (*ANGLES, *GRADE.values(), "sh_y", "hip_y", "nose_y", "wr_y")

# What moves between an exercise's start and its turn: an angle, and whether it grows towards the turn; then a height
# to fall back on where the joint is not seen (image y, 0 at the top), and whether it grows towards the turn (lower).
SIGNALS: dict[str, tuple[tuple[str, bool], tuple[str, bool]]] = {
    "pushup": (("elbow", False), ("sh_y", True)),
    "squat": (("knee", False), ("hip_y", True)),
    "lunge": (("knee", False), ("hip_y", True)),
    "situp": (("hipang", False), ("sh_y", False)),
    "jumping_jack": (("shoulder", True), ("wr_y", False)),
    "pullup": (("elbow", False), ("nose_y", False)),
    "curl": (("elbow_min", False), ("wr_y", False)),
    "shoulder_press": (("elbow", True), ("wr_y", False)),
}


# Each angle's landmarks on the left and the right side: (the far end, the joint, the other end).
SIDES: dict[str, tuple[tuple[int, int, int], tuple[int, int, int]]] = {
    "elbow": ((L_SH, L_EL, L_WR), (R_SH, R_EL, R_WR)),
    "knee": ((L_HIP, L_KN, L_AN), (R_HIP, R_KN, R_AN)),
    "hipang": ((L_SH, L_HIP, L_KN), (R_SH, R_HIP, R_KN)),
    "shoulder": ((L_HIP, L_SH, L_EL), (R_HIP, R_SH, R_EL)),
}


def degrees(a: np.ndarray, j: np.ndarray, b: np.ndarray) -> np.ndarray:
    return 180.0 * _angle(a, j, b)  # the features' angle (radians / pi), in degrees


def _sides(xy: np.ndarray, vis: np.ndarray, left: tuple[int, int, int], right: tuple[int, int, int]) -> tuple[np.ndarray, ...]:
    """Each side's angle at its middle landmark and its visibility (the least of its three landmarks)."""
    out = []
    for a, j, b in (left, right):
        out += [degrees(xy[:, a], xy[:, j], xy[:, b]), vis[:, [a, j, b]].min(1)]
    return tuple(out)


def _better(left: np.ndarray, v_left: np.ndarray, right: np.ndarray, v_right: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    pick = v_left >= v_right
    return np.where(pick, left, right), np.where(pick, v_left, v_right)


def _thigh(xy: np.ndarray, vis: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The thighs' slope below the horizontal, from both legs where both are seen, else from the better one."""
    dy = np.stack([xy[:, h, 1] - xy[:, k, 1] for h, k in ((L_HIP, L_KN), (R_HIP, R_KN))], 1)
    dx = np.stack([np.abs(xy[:, h, 0] - xy[:, k, 0]) for h, k in ((L_HIP, L_KN), (R_HIP, R_KN))], 1)
    v = np.stack([vis[:, [L_HIP, L_KN]].min(1), vis[:, [R_HIP, R_KN]].min(1)], 1)
    both = (v >= SEEN).all(1)
    left = v[:, 0] >= v[:, 1]
    pick_dy = np.where(both, dy.mean(1), np.where(left, dy[:, 0], dy[:, 1]))
    pick_dx = np.where(both, dx.mean(1), np.where(left, dx[:, 0], dx[:, 1]))
    return np.degrees(np.arctan2(pick_dy, pick_dx)), np.where(both, v.min(1), v.max(1))


def fields_of(xy: np.ndarray, vis: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
    """Every field for n rows of landmarks: ``xy`` (n, 33, 2) in one unit along x and y (pixels, or a square
    canvas's share), ``vis`` (n, 33), ``y`` (n, 33) the heights the height fields are given in."""
    el, vel, er, ver = _sides(xy, vis, *SIDES["elbow"])
    kl, vkl, kr, vkr = _sides(xy, vis, *SIDES["knee"])
    hl, vhl, hr, vhr = _sides(xy, vis, *SIDES["hipang"])
    sl, vsl, sr, vsr = _sides(xy, vis, *SIDES["shoulder"])
    elbow, ve = _better(el, vel, er, ver)
    knee, vk = _better(kl, vkl, kr, vkr)
    hipang, vh = _better(hl, vhl, hr, vhr)
    seen = np.stack([np.where(vel >= SEEN, el, np.nan), np.where(ver >= SEEN, er, np.nan)], axis=1)
    thigh, vt = _thigh(xy, vis)
    hips = (xy[:, L_HIP] + xy[:, R_HIP]) / 2
    return {
        "elbow": elbow, "ve": ve, "elbow_min": _nanmin(seen), "elbow_max": -_nanmin(-seen), "vem": np.maximum(vel, ver),
        "knee": knee, "vk": vk,
        "hipang": hipang, "vh": vh, "shoulder": (sl + sr) / 2, "vs": np.minimum(vsl, vsr), "thigh": thigh, "vt": vt,
        "legs": degrees(xy[:, L_AN], hips, xy[:, R_AN]), "vl": np.minimum(vis[:, L_AN], vis[:, R_AN]),
        "sh_y": (y[:, L_SH] + y[:, R_SH]) / 2, "hip_y": (y[:, L_HIP] + y[:, R_HIP]) / 2, "nose_y": y[:, NOSE],
        "wr_y": (y[:, L_WR] + y[:, R_WR]) / 2,
    }


def measures(track: PoseTrack, n: int) -> dict[str, np.ndarray]:
    """Every field over source frames [0, n), NaN where the pose stage found nobody or did not run."""
    per_row = fields_of(track.xy.astype(np.float64), track.landmarks[..., 3].astype(np.float64),
                        track.landmarks[..., 1].astype(np.float64))
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
