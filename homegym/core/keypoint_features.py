"""The keypoint classifier's features: one NumPy implementation for training and for the daemon.

A frame's features come from the pose stage's 33 landmarks and world landmarks and from the
frames before it (never after: it runs live). Per frame: the body's 2D shape centred on the hips
and scaled by its own size; elbow, knee and hip angles in 2D and in 3D (the world landmarks, so a
push-up seen from the front bends the same elbows as one seen from the side); how upright the
torso is; how visible the arms and legs are. Over a causal window: how much each angle and height above the feet
changed over the last 0.25 s and 0.5 s, where it stands between its own minimum and maximum of
the last ``window_s``, and that range (a set swings; standing still does not). Version 2 adds the hips' and the
wrists' heights in the frame to the window, in the frame's longer side (the one part not in body sizes: a closer
camera moves them further): a pull-up moves the body past still hands, a press moves the hands past a still body,
and in the body's own shape the two are the same movement.

``VERSION`` names this definition; convert writes it into the classifier's IR and the daemon
refuses an IR whose features it does not compute. Change the features: bump it, and keep computing the versions
before it (``VERSIONS``): a model of one's own trained on them keeps working.
"""

from __future__ import annotations

import functools
from dataclasses import asdict, dataclass

import numpy as np

from . import exercises
from .labels import parse_label

VERSION = "homegym-keypoint-features/2"

NOSE, L_SH, R_SH, L_EL, R_EL, L_WR, R_WR = 0, 11, 12, 13, 14, 15, 16
L_HIP, R_HIP, L_KN, R_KN, L_AN, R_AN = 23, 24, 25, 26, 27, 28
BODY = (NOSE, L_SH, R_SH, L_EL, R_EL, L_WR, R_WR, L_HIP, R_HIP, L_KN, R_KN, L_AN, R_AN)
ARMS = (L_SH, R_SH, L_EL, R_EL, L_WR, R_WR)
LEGS = (L_HIP, R_HIP, L_KN, R_KN, L_AN, R_AN)
# (a, joint, b): the angle at ``joint`` between the limbs to a and to b
ANGLES = ((L_SH, L_EL, L_WR), (R_SH, R_EL, R_WR), (L_HIP, L_KN, L_AN), (R_HIP, R_KN, R_AN), (L_SH, L_HIP, L_KN), (R_SH, R_HIP, R_KN))
_ENDS_A, _JOINTS, _ENDS_B = (list(col) for col in zip(*ANGLES))  # every angle in one call: the daemon computes them each frame


@dataclass(frozen=True)
class FeatureSpec:
    """The window's parameters, written into the IR beside ``VERSION``."""

    version: str = VERSION
    window_s: float = 3.0  # the running minimum and maximum look this far back
    deltas_s: tuple[float, ...] = (0.25, 0.5)  # changes over these spans
    delta_slack_s: float = 0.25  # a delta whose past frame is further back than span + slack is unknown (0)
    # push-up phases fade out as the torso rises from this uprightness (|cos| to the vertical) to the next: see ``gate``
    pushup_gate: tuple[float, float] = (0.7, 1.0)
    # the phases of exercises done upright (standing, hanging) fade out as the torso falls from the second to the first
    upright_gate: tuple[float, float] = (1.0, 1.0)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> FeatureSpec:
        gate = d.get("pushup_gate", (1.0, 1.0))  # IRs from before the gate: off
        upright = d.get("upright_gate", (1.0, 1.0))
        return cls(str(d["version"]), float(d["window_s"]), tuple(float(x) for x in d["deltas_s"]), float(d["delta_slack_s"]),
                   (float(gate[0]), float(gate[1])), (float(upright[0]), float(upright[1])))

    @property
    def swinging(self) -> int:
        """The swinging columns this version windows (the first ones of ``FrameFeatures.swinging``)."""
        return VERSIONS[self.version]

    @property
    def width(self) -> int:
        return STATIC + self.swinging * (len(self.deltas_s) + 2)


STATIC = 2 * len(BODY) + 2 * len(ANGLES) + 2 + 3 + 1  # shape, 2D and 3D angles, torso uprightness (2D, 3D), visibility, found
# angles 2D and 3D, torso uprightness (3D), nose / shoulder / hip heights above the feet; from version 2 the hips' and
# the wrists' heights in the frame
SWINGING = 2 * len(ANGLES) + 1 + 3 + 2
VERSIONS = {"homegym-keypoint-features/1": SWINGING - 2, VERSION: SWINGING}  # each version -> its swinging columns
# Times within this of a window's edge count as on it: a file's frame times computed in float32 (a keypoint file) or
# float64 (the daemon) must pick the same frames, and at 15 fps a 3 s window's edge falls exactly on a frame.
TIME_TOLERANCE_S = 1e-3
UPRIGHT_3D = 2 * len(BODY) + 2 * len(ANGLES) + 1  # the column of the torso's uprightness from the world landmarks


@dataclass(frozen=True)
class FrameFeatures:
    """Per frame, before the window: ``static`` goes to the classifier as it is, ``swinging`` through the window."""

    static: np.ndarray  # (n, STATIC)
    swinging: np.ndarray  # (n, SWINGING), NaN where nobody was found
    found: np.ndarray  # (n,) bool


def _angle(a: np.ndarray, j: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The angle at ``j`` (radians / pi, 0..1) per row; works in 2D and 3D."""
    u, v = a - j, b - j
    cos = (u * v).sum(-1) / np.maximum(np.linalg.norm(u, axis=-1) * np.linalg.norm(v, axis=-1), 1e-9)
    return np.arccos(np.clip(cos, -1.0, 1.0)) / np.pi


def upright(top: np.ndarray, bottom: np.ndarray) -> np.ndarray:
    """|cos| of the angle between the hips-to-shoulders vector and the vertical (image y): 1 standing, 0 lying."""
    v = top - bottom
    return np.abs(v[..., 1]) / np.maximum(np.linalg.norm(v, axis=-1), 1e-9)


def frame_features(xy: np.ndarray, world: np.ndarray, visibility: np.ndarray, presence: np.ndarray,
                   found: np.ndarray, side: float = 1.0) -> FrameFeatures:
    """The per-frame part. ``xy`` (n, 33, 2) in any unit equal along x and y (pixels, or a square canvas's
    0..1), y down, and ``side`` the frame's longer side in that unit (the canvas's 1: the frame letterboxed into it);
    ``world`` (n, 33, 3) metres; ``visibility`` (n, 33); ``presence`` and ``found`` (n,)."""
    found = np.asarray(found, bool)
    xy = np.where(found[:, None, None], xy, 0.0).astype(np.float64)
    world = np.where(found[:, None, None], world, 0.0).astype(np.float64)
    hips = (xy[:, L_HIP] + xy[:, R_HIP]) / 2
    shoulders = (xy[:, L_SH] + xy[:, R_SH]) / 2
    thighs = (np.linalg.norm(xy[:, L_HIP] - xy[:, L_KN], axis=-1) + np.linalg.norm(xy[:, R_HIP] - xy[:, R_KN], axis=-1)) / 2
    # the body's size: the torso, unless it points at the camera (a push-up from the front), then the shoulders or thighs
    scale = np.maximum.reduce([np.linalg.norm(shoulders - hips, axis=-1), np.linalg.norm(xy[:, L_SH] - xy[:, R_SH], axis=-1),
                               thighs, np.full(len(xy), 1e-6)])
    shape = (xy[:, BODY] - hips[:, None]) / scale[:, None, None]
    angles2 = _angle(xy[:, _ENDS_A], xy[:, _JOINTS], xy[:, _ENDS_B])
    angles3 = _angle(world[:, _ENDS_A], world[:, _JOINTS], world[:, _ENDS_B])
    w_sh, w_hip = (world[:, L_SH] + world[:, R_SH]) / 2, (world[:, L_HIP] + world[:, R_HIP]) / 2
    up2, up3 = upright(shoulders, hips), upright(w_sh, w_hip)
    vis = np.stack([visibility[:, ARMS].mean(1), visibility[:, LEGS].mean(1), presence], axis=1)
    # heights above the feet, in body sizes: where the person stands in the frame (or the letterbox's margin) drops out
    feet = (xy[:, L_AN, 1] + xy[:, R_AN, 1]) / 2
    heights = (feet[:, None] - np.stack([xy[:, NOSE, 1], shoulders[:, 1], hips[:, 1]], axis=1)) / scale[:, None]
    # heights in the frame, in the frame's longer side (a body size changes as the body bends, and would move a still
    # point): only their changes reach the classifier, as the window's deltas and range
    in_frame = -np.stack([hips[:, 1], (xy[:, L_WR, 1] + xy[:, R_WR, 1]) / 2], axis=1) / side
    static = np.concatenate([shape.reshape(len(xy), -1), angles2, angles3, up2[:, None], up3[:, None], vis, found[:, None]], axis=1)
    static[~found] = 0.0
    swinging = np.concatenate([angles2, angles3, up3[:, None], heights, in_frame], axis=1)
    swinging[~found] = np.nan
    return FrameFeatures(static.astype(np.float32), swinging.astype(np.float32), found)


def windowed(swinging: np.ndarray, t: np.ndarray, spec: FeatureSpec, rows: np.ndarray | None = None) -> np.ndarray:
    """(len(rows), spec.swinging * (deltas + 2)): each of ``rows`` (default: every frame) from its own frame and the
    frames of the ``window_s`` before it. The daemon asks for its newest frame only."""
    swinging = swinging[:, :spec.swinging]
    t = np.asarray(t, np.float64)
    q = np.arange(len(t)) if rows is None else np.asarray(rows)
    tq, now = t[q], swinging[q]
    out = []
    for d in spec.deltas_s:
        j = np.searchsorted(t, tq - d + TIME_TOLERANCE_S, side="right") - 1  # the latest frame at least d before
        ok = (j >= 0) & (tq - t[np.maximum(j, 0)] <= d + spec.delta_slack_s + TIME_TOLERANCE_S)
        out.append(np.where(ok[:, None], now - swinging[np.maximum(j, 0)], np.nan))
    start = np.searchsorted(t, tq - spec.window_s - TIME_TOLERANCE_S, side="left")
    width = int((q - start).max(initial=0)) + 1
    idx = q[:, None] - np.arange(width)[None, :]  # (rows, width): this frame and the ones before it
    inside = idx >= start[:, None]
    win = np.where(inside[..., None], swinging[np.maximum(idx, 0)], np.nan)  # (rows, width, SWINGING)
    lo, hi = np.fmin.reduce(win, axis=1), np.fmax.reduce(win, axis=1)  # NaN ignored; a column of NaN only stays NaN
    span = hi - lo
    place = (now - lo) / np.where(span > 1e-6, span, np.nan)
    out += [place, span]
    return np.nan_to_num(np.concatenate(out, axis=1), nan=0.0).astype(np.float32)


def features(ff: FrameFeatures, t: np.ndarray, spec: FeatureSpec = FeatureSpec()) -> np.ndarray:
    """A whole sequence's features, (n, spec.width): what training computes over a clip."""
    return np.concatenate([ff.static, windowed(ff.swinging, t, spec)], axis=1)


def gate(probs: np.ndarray, features: np.ndarray, labels: tuple[str, ...], spec: FeatureSpec) -> np.ndarray:
    """Posture gates: an exercise's phases fade out where the torso (the world landmarks', whatever the view) is not in
    the posture the exercise is done in, and their share goes to ``neither``. A push-up is done lying down: its phases
    fade as the torso rises toward the vertical (``pushup_gate``); a classifier alone read a standing curl's or press's
    bent elbows as a push-up's bottom on people it never saw. The exercises done standing or hanging fade as the torso
    falls toward the horizontal (``upright_gate``). A sit-up goes from lying to sitting: no gate. (n, labels) in, the
    same out."""
    if "neither" not in labels:
        return probs
    upright = features[:, UPRIGHT_3D]
    out = probs
    for postures, (lo, hi), falling in ((("plank",), spec.pushup_gate, False), (("standing", "hanging"), spec.upright_gate, True)):
        cols = _columns(labels, postures)
        if hi <= lo or not cols:
            continue
        keep = np.clip((upright - lo) / (hi - lo) if falling else (hi - upright) / (hi - lo), 0.0, 1.0)
        if out is probs:
            out = probs.copy()
        moved = out[:, cols].sum(1) * (1 - keep)
        out[:, cols] *= keep[:, None]
        out[:, labels.index("neither")] += moved
    return out


@functools.lru_cache(maxsize=16)
def _columns(labels: tuple[str, ...], postures: tuple[str, ...]) -> list[int]:
    """The labels of exercises done in one of ``postures`` (the daemon gates every frame: worked out once)."""
    return [i for i, lab in enumerate(labels) if _posture(lab) in postures]


def _posture(label: str) -> str:
    """The posture of a label's exercise ("" for neither, three-class labels and exercises of one's own)."""
    exercise = parse_label(label).exercise
    return exercises.of(exercise).posture if exercise else ""


class FeatureStream:
    """The daemon's side: one frame at a time, the same numbers ``features`` gives for the whole sequence."""

    def __init__(self, spec: FeatureSpec, side: float = 1.0) -> None:
        self.spec = spec
        self.side = side  # the frame's longer side in the unit of the landmarks given (the canvas's 1)
        self._keep_s = max(spec.window_s, max(spec.deltas_s) + spec.delta_slack_s) + 2 * TIME_TOLERANCE_S
        self._t = np.zeros(256)  # the window's frames, rows [_start, _end): arrays, not a list rebuilt every frame
        self._swinging = np.zeros((256, SWINGING), np.float32)
        self._start = self._end = 0

    def reset(self) -> None:
        self._start = self._end = 0

    def _append(self, t: float, swinging: np.ndarray) -> None:
        if self._end == len(self._t):  # full: the window's rows to the front, and room for more where it is all window
            n = self._end - self._start
            if n > len(self._t) // 2:
                self._t = np.concatenate([self._t, np.zeros_like(self._t)])
                self._swinging = np.concatenate([self._swinging, np.zeros_like(self._swinging)])
            self._t[:n], self._swinging[:n] = self._t[self._start:self._end], self._swinging[self._start:self._end]
            self._start, self._end = 0, n
        self._t[self._end], self._swinging[self._end] = t, swinging
        self._end += 1

    def step(self, t: float, xy: np.ndarray, world: np.ndarray, visibility: np.ndarray, presence: float, found: bool) -> np.ndarray:
        """(spec.width,) for a frame at ``t`` (seconds, increasing): one pose's (33, 2), (33, 3), (33,)."""
        ff = frame_features(xy[None], world[None], visibility[None], np.array([presence]), np.array([found]), self.side)
        if self._end > self._start and t <= self._t[self._end - 1]:
            self.reset()  # time went back: a new source
        self._append(t, ff.swinging[0])
        self._start += int(np.searchsorted(self._t[self._start:self._end], t - self._keep_s, side="left"))
        ts, swing = self._t[self._start:self._end], self._swinging[self._start:self._end]
        return np.concatenate([ff.static[0], windowed(swing, ts, self.spec, np.array([len(ts) - 1]))[0]])
