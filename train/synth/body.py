"""An articulated human figure: proportions and the 3D joint positions of each movement.

World frame: x is the person's forward, y up, z to the person's left; the floor is
y = 0. Every pose function takes a phase ``p`` in [0, 1] (0 = top of the movement,
1 = its bottom) or a time, and returns joint positions in metres.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

Pose = dict[str, np.ndarray]

# (joint a, joint b, radius factor, part) drawn as shaded capsules; part picks the colour.
LIMBS: tuple[tuple[str, str, float, str], ...] = (
    ("l_hip", "l_shoulder", 0.075, "shirt"),
    ("r_hip", "r_shoulder", 0.075, "shirt"),
    ("pelvis", "chest", 0.085, "shirt"),
    ("l_hip", "r_hip", 0.07, "pants"),
    ("l_shoulder", "r_shoulder", 0.05, "shirt"),
    ("chest", "neck", 0.03, "skin"),
    ("l_shoulder", "l_elbow", 0.032, "sleeve"),
    ("r_shoulder", "r_elbow", 0.032, "sleeve"),
    ("l_elbow", "l_wrist", 0.026, "forearm"),
    ("r_elbow", "r_wrist", 0.026, "forearm"),
    ("l_hip", "l_knee", 0.05, "pants"),
    ("r_hip", "r_knee", 0.05, "pants"),
    ("l_knee", "l_ankle", 0.037, "shin"),
    ("r_knee", "r_ankle", 0.037, "shin"),
    ("l_ankle", "l_toe", 0.028, "shoe"),
    ("r_ankle", "r_toe", 0.028, "shoe"),
)
# (joint, radius factor, part) drawn as shaded spheres.
BALLS: tuple[tuple[str, float, str], ...] = (
    ("head", 0.068, "skin"),
    ("l_wrist", 0.03, "skin"),
    ("r_wrist", 0.03, "skin"),
)


@dataclass(frozen=True)
class Body:
    """Proportions as fractions of the height, randomised per clip."""

    height: float = 1.75
    leg: float = 1.0  # scales thigh and shin
    arm: float = 1.0  # scales upper arm and forearm
    width: float = 1.0  # scales shoulders and hips
    girth: float = 1.0  # scales every radius

    @classmethod
    def random(cls, rng: np.random.Generator) -> Body:
        return cls(
            height=float(rng.uniform(1.5, 1.95)),
            leg=float(rng.uniform(0.93, 1.07)),
            arm=float(rng.uniform(0.93, 1.07)),
            width=float(rng.uniform(0.85, 1.2)),
            girth=float(rng.uniform(0.8, 1.35)),
        )

    @property
    def thigh(self) -> float:
        return 0.245 * self.height * self.leg

    @property
    def shin(self) -> float:
        return 0.245 * self.height * self.leg

    @property
    def torso(self) -> float:
        return 0.29 * self.height

    @property
    def upper_arm(self) -> float:
        return 0.17 * self.height * self.arm

    @property
    def forearm(self) -> float:
        return 0.165 * self.height * self.arm

    @property
    def shoulder_w(self) -> float:
        return 0.12 * self.height * self.width

    @property
    def hip_w(self) -> float:
        return 0.085 * self.height * self.width

    @property
    def ankle_h(self) -> float:
        return 0.045 * self.height

    @property
    def foot(self) -> float:
        return 0.13 * self.height

    def radius(self, factor: float) -> float:
        return factor * self.height * self.girth * 0.8 + 0.004

    @property
    def head_r(self) -> float:
        return 0.068 * self.height * 0.9


def _v(x: float, y: float, z: float) -> np.ndarray:
    return np.array([x, y, z], dtype=np.float64)


def _dir(angle_from_down_deg: float, forward_sign: float = 1.0) -> np.ndarray:
    """Unit vector in the sagittal plane, ``angle`` degrees from straight down towards forward."""
    a = math.radians(angle_from_down_deg)
    return _v(forward_sign * math.sin(a), -math.cos(a), 0.0)


def _two_link(a: np.ndarray, b: np.ndarray, l1: float, l2: float, bend: np.ndarray) -> np.ndarray:
    """Middle joint of a two-bone chain from a to b, bending towards ``bend`` (inverse kinematics)."""
    d = b - a
    dist = float(np.linalg.norm(d))
    dist = min(max(dist, abs(l1 - l2) + 1e-4), l1 + l2 - 1e-4)
    u = d / (np.linalg.norm(d) + 1e-9)
    x = (l1 * l1 - l2 * l2 + dist * dist) / (2 * dist)
    h = math.sqrt(max(l1 * l1 - x * x, 0.0))
    perp = bend - np.dot(bend, u) * u
    perp /= np.linalg.norm(perp) + 1e-9
    return a + u * x + perp * h


def _upper_body(pose: Pose, body: Body, pelvis: np.ndarray, lean_deg: float, side: float = 0.0) -> None:
    """Torso, neck and head from the pelvis, leaning ``lean_deg`` forward from vertical."""
    lean = math.radians(lean_deg)
    sb = math.radians(side)
    up = _v(math.sin(lean) * math.cos(sb), math.cos(lean) * math.cos(sb), math.sin(sb))
    chest = pelvis + up * body.torso
    lat = _v(0, 0, 1.0)
    lat = lat - np.dot(lat, up) * up
    lat /= np.linalg.norm(lat)
    pose["pelvis"] = pelvis
    pose["chest"] = chest
    pose["l_shoulder"] = chest + lat * body.shoulder_w - up * 0.02 * body.height
    pose["r_shoulder"] = chest - lat * body.shoulder_w - up * 0.02 * body.height
    pose["l_hip"] = pelvis + lat * body.hip_w
    pose["r_hip"] = pelvis - lat * body.hip_w
    pose["neck"] = chest + up * 0.05 * body.height
    pose["head"] = chest + up * (0.05 * body.height + body.head_r * 1.2)


def _arms(pose: Pose, body: Body, l_dir: np.ndarray, r_dir: np.ndarray, bend_deg: float = 10.0) -> None:
    """Arms hanging along the given unit directions, elbows bent a little forward."""
    for side, d in (("l", l_dir), ("r", r_dir)):
        sh = pose[f"{side}_shoulder"]
        elbow = sh + d * body.upper_arm
        fwd = _v(1.0, 0.3, 0.0)
        fwd = fwd - np.dot(fwd, d) * d
        fwd /= np.linalg.norm(fwd) + 1e-9
        b = math.radians(bend_deg)
        pose[f"{side}_elbow"] = elbow
        pose[f"{side}_wrist"] = elbow + (d * math.cos(b) + fwd * math.sin(b)) * body.forearm


def _legs_from_ankles(pose: Pose, body: Body, shin_deg: float, thigh_deg: float, stance: float) -> np.ndarray:
    """Feet flat on the floor; shins lean ``shin_deg`` forward, thighs ``thigh_deg`` back. Returns the pelvis."""
    hips = []
    for side, s in (("l", 1.0), ("r", -1.0)):
        ankle = _v(0.0, body.ankle_h, s * body.hip_w * stance)
        knee = ankle + _v(math.sin(math.radians(shin_deg)), math.cos(math.radians(shin_deg)), 0) * body.shin
        hip = knee + _v(-math.sin(math.radians(thigh_deg)), math.cos(math.radians(thigh_deg)), 0) * body.thigh
        pose[f"{side}_ankle"] = ankle
        pose[f"{side}_knee"] = knee
        pose[f"{side}_toe"] = ankle + _v(body.foot, -body.ankle_h * 0.6, s * 0.02)
        hips.append(hip)
    mid = (hips[0] + hips[1]) / 2
    return _v(mid[0], mid[1], 0.0)


SQUAT_BOTTOM_DEG = 8.0  # a full squat's thighs below level at its bottom, unless a clip asks for another depth


def squat(body: Body, p: float, style: float = 0.5, bottom_deg: float = SQUAT_BOTTOM_DEG) -> Pose:
    """Standing (p = 0) down to a squat whose thighs end ``bottom_deg`` below level (p = 1; negative: above level);
    ``style`` in [0, 1] sets stance and arm use."""
    pose: Pose = {}
    stance = 1.2 + 0.8 * style
    thigh = 90.0 + bottom_deg  # from upright
    pelvis = _legs_from_ankles(pose, body, shin_deg=38 * p * thigh / 98, thigh_deg=thigh * p, stance=stance)
    lean = 4 + 38 * p
    _upper_body(pose, body, pelvis, lean)
    arm_raise = (85 * p if style > 0.35 else 15 + 10 * p)  # arms forward for balance, or kept low
    _arms(pose, body, _dir(arm_raise), _dir(arm_raise), bend_deg=10 + 20 * (1 - p))
    return pose


def pushup(body: Body, p: float, hand_w: float = 1.3, knees: bool = False) -> Pose:
    """A straight-body push-up from arms extended (p = 0) to chest near the floor (p = 1)."""
    pose: Pose = {}
    arm_len = body.upper_arm + body.forearm
    wrist_h = 0.03 * body.height
    h_up = wrist_h + arm_len * 0.97
    h_down = 0.13 * body.height
    h = h_up + (h_down - h_up) * p  # shoulder height
    # The pivot is the toes (or the knees): the body is a straight line from there to the shoulders.
    pivot_h = 0.03 * body.height if not knees else 0.05 * body.height
    length = body.torso + (body.thigh + (0 if knees else body.shin + 0.5 * body.ankle_h))
    rise = h - pivot_h
    run = math.sqrt(max(length * length - rise * rise, 1e-6))
    pivot = _v(0.0, pivot_h, 0.0)
    shoulder_mid = _v(run, h, 0.0)
    axis = (shoulder_mid - pivot) / length
    pelvis = shoulder_mid - axis * body.torso
    _upper_body(pose, body, pelvis, lean_deg=math.degrees(math.atan2(run, rise)))
    # Head looks slightly ahead of the line of the body.
    pose["head"] = pose["head"] + _v(0.0, 0.02 * body.height, 0.0)
    for side, s in (("l", 1.0), ("r", -1.0)):
        hip = pose[f"{side}_hip"]
        knee = hip - axis * body.thigh
        pose[f"{side}_knee"] = knee
        if knees:
            ankle = knee + _v(-body.shin * 0.9, body.shin * 0.35, 0)
        else:
            ankle = knee - axis * body.shin
        pose[f"{side}_ankle"] = ankle
        pose[f"{side}_toe"] = _v(ankle[0] + 0.02, 0.015 * body.height, ankle[2]) if not knees else ankle + _v(-0.1, 0.05, 0)
        sh = pose[f"{side}_shoulder"]
        wrist = _v(sh[0] + 0.04 * body.height, wrist_h, s * body.shoulder_w * hand_w)
        elbow = _two_link(sh, wrist, body.upper_arm, body.forearm, bend=_v(-0.6, 0.3, s * 0.8))
        pose[f"{side}_elbow"] = elbow
        pose[f"{side}_wrist"] = wrist
    return pose


def stand(body: Body, t: float, sway: float = 1.0) -> Pose:
    """Standing still with a little breathing sway: the top of a squat (DESIGN.md's label rule)."""
    pose = squat(body, 0.0, style=0.2)
    dx = 0.01 * sway * math.sin(t * 1.3)
    for k in pose:
        if "ankle" not in k and "toe" not in k:
            pose[k] = pose[k] + _v(dx, 0.0, 0.005 * math.sin(t * 0.7))
    return pose


def walk(body: Body, t: float, speed: float = 1.0, start_x: float = -1.6) -> Pose:
    """Walking across the room along +x; the figure may leave the frame."""
    pose: Pose = {}
    step_hz = 0.9 * speed
    ph = 2 * math.pi * step_hz * t
    x = start_x + 0.7 * speed * t
    pelvis_h = body.ankle_h + (body.thigh + body.shin) * 0.97 + 0.01 * math.cos(2 * ph) * body.height
    pelvis = _v(x, pelvis_h, 0.0)
    _upper_body(pose, body, pelvis, lean_deg=5)
    for side, _s, off in (("l", 1.0, 0.0), ("r", -1.0, math.pi)):
        swing = math.sin(ph + off)
        thigh_a = 25 * swing
        knee_bend = 35 * max(0.0, math.sin(ph + off + math.pi / 2))
        hip = pose[f"{side}_hip"]
        knee = hip + _dir(thigh_a) * body.thigh
        ankle = knee + _dir(thigh_a - knee_bend) * body.shin
        ankle[1] = max(ankle[1], body.ankle_h)
        pose[f"{side}_knee"] = knee
        pose[f"{side}_ankle"] = ankle
        pose[f"{side}_toe"] = ankle + _v(body.foot, -body.ankle_h * 0.6, 0)
    _arms(pose, body, _dir(-20 * math.sin(ph)), _dir(20 * math.sin(ph)), bend_deg=20)
    return pose


def stretch(body: Body, t: float, kind: int) -> tuple[Pose, float]:
    """Forward bends (kind 0) or overhead side bends (kind 1); returns the pose and how deep it is (0..1)."""
    depth = 0.5 - 0.5 * math.cos(2 * math.pi * t / 4.0)
    pose: Pose = {}
    pelvis = _legs_from_ankles(pose, body, shin_deg=2, thigh_deg=2, stance=1.4)
    if kind == 0:
        lean = 100 * depth
        pelvis = pelvis + _v(-0.12 * depth * body.height * 0.5, 0, 0)
        _upper_body(pose, body, pelvis, lean)
        down = _dir(10 + 10 * depth)
        _arms(pose, body, down, down, bend_deg=5)
    else:
        _upper_body(pose, body, pelvis, 3, side=35 * math.sin(2 * math.pi * t / 5.0))
        up = _dir(175)
        _arms(pose, body, up + _v(0, 0, 0.2), up + _v(0, 0, -0.2), bend_deg=15)
        depth = max(depth, 0.6)  # arms overhead is not a standing-still posture
    return pose, depth


def kneel(body: Body, t: float) -> Pose:
    """Kneeling upright or sitting back on the heels, arms moving: neither exercise."""
    pose: Pose = {}
    back = 0.5 - 0.5 * math.cos(2 * math.pi * t / 3.5)
    knee_h = 0.03 * body.height
    for side, s in (("l", 1.0), ("r", -1.0)):
        knee = _v(0.0, knee_h, s * body.hip_w * 1.1)
        ankle = knee + _v(-body.shin, 0.02 * body.height, 0)
        pose[f"{side}_knee"] = knee
        pose[f"{side}_ankle"] = ankle
        pose[f"{side}_toe"] = ankle + _v(-body.foot * 0.7, -0.01 * body.height, 0)
    thigh_a = math.radians(10 + 70 * back)
    pelvis = _v(-math.sin(thigh_a) * body.thigh, knee_h + math.cos(thigh_a) * body.thigh, 0.0)
    _upper_body(pose, body, pelvis, 8 + 12 * back)
    raise_a = 40 + 120 * (0.5 - 0.5 * math.cos(2 * math.pi * t / 2.5))
    _arms(pose, body, _dir(raise_a), _dir(raise_a), bend_deg=15)
    return pose


def lie(body: Body, t: float) -> Pose:
    """Lying on the back, knees bent, arms moving: neither exercise (and not a push-up bottom)."""
    pose: Pose = {}
    r = 0.06 * body.height
    crunch = 12 * (0.5 - 0.5 * math.cos(2 * math.pi * t / 3.0))
    pelvis = _v(0.0, r, 0.0)
    _upper_body(pose, body, pelvis, lean_deg=-(90 - crunch))
    for side, s in (("l", 1.0), ("r", -1.0)):
        hip = pose[f"{side}_hip"]
        ankle = _v(hip[0] + 0.75 * (body.thigh + body.shin), body.ankle_h, s * body.hip_w * 1.3)
        knee = _two_link(hip, ankle, body.thigh, body.shin, bend=_v(0, 1, 0))
        pose[f"{side}_knee"] = knee
        pose[f"{side}_ankle"] = ankle
        pose[f"{side}_toe"] = ankle + _v(body.foot, -body.ankle_h * 0.6, 0)
    a = 60 + 100 * (0.5 - 0.5 * math.cos(2 * math.pi * t / 4.0))
    _arms(pose, body, _dir(a, -1), _dir(a, -1), bend_deg=10)
    return pose
