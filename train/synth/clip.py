"""One rendered workout clip: the scenario (what the figure does when), its labels and its reps."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

import cv2
import numpy as np

from homegym.core import labelfile
from homegym.core.errors import UserError

from . import body as B
from .camera import random_camera
from .draw import Look, draw_figure, draw_shadow, make_background

EXERCISES = ("pushup", "squat")
NEITHER_ACTIVITIES = ("walk", "stretch", "kneel", "lie", "empty")
ACTIVITIES = EXERCISES + NEITHER_ACTIVITIES + ("stand",)
KINDS = EXERCISES + ("neither",) + ACTIVITIES[2:]  # what --kinds accepts
UP_BELOW, DOWN_ABOVE = 0.3, 0.7  # phase thresholds for the up/down labels; frames between are unlabelled


@dataclass
class Rep:
    start_frame: int
    bottom_frame: int
    end_frame: int
    depth: float


@dataclass
class ClipResult:
    name: str
    activity: str
    exercise: str  # "pushup", "squat" or "other" (the manifest's vocabulary)
    fps: float
    frames: int
    seed: int
    reps: list[Rep] = field(default_factory=list)
    partial_reps: list[Rep] = field(default_factory=list)
    video: Path | None = None
    labels: Path | None = None


def _phase_track(rng: np.random.Generator, n: int, fps: float, exact: bool = False) -> tuple[np.ndarray, list[Rep], list[Rep]]:
    """Per-frame phase in [0, 1] with reps of random tempo, pauses and partial reps; ``exact``: every full rep reaches
    the bottom (p = 1), so its depth is the clip's."""
    p = np.zeros(n)
    reps: list[Rep] = []
    partial: list[Rep] = []
    speed = rng.uniform(0.7, 1.4)
    i = int(rng.uniform(0.3, 1.5) * fps)
    while i < n:
        if rng.random() < 0.18:
            i += int(rng.uniform(0.5, 2.5) * fps)  # a pause at the top
            continue
        is_partial = rng.random() < 0.12
        depth = rng.uniform(0.2, 0.45) if is_partial else rng.uniform(0.88, 1.0)
        if exact and not is_partial:
            depth = 1.0
        period = rng.uniform(1.3, 3.0) / speed * (0.6 if is_partial else 1.0)
        down_frac = rng.uniform(0.35, 0.6)
        nd = max(3, round(period * down_frac * fps))
        nh = 0 if is_partial else round(rng.uniform(0.0, 0.4) * fps)
        nu = max(3, round(period * (1 - down_frac) * fps))
        if i + nd + nh + nu > n:
            break
        k = np.arange(nd)
        p[i : i + nd] = depth * (1 - np.cos(np.pi * k / nd)) / 2
        p[i + nd : i + nd + nh] = depth
        k = np.arange(nu)
        p[i + nd + nh : i + nd + nh + nu] = depth * (1 + np.cos(np.pi * (k + 1) / nu)) / 2
        rep = Rep(i, i + nd + nh // 2, i + nd + nh + nu - 1, float(depth))
        (partial if is_partial else reps).append(rep)
        i += nd + nh + nu + int(rng.uniform(0.0, 0.35) * fps)
    return p, reps, partial


def _scenario(activity: str, body: B.Body, rng: np.random.Generator, n: int, fps: float, squat_depth: float | None = None):
    """Returns (pose_at(i) -> Pose | None, label_at(i) -> str | None, target, extent, reps, partial reps)."""
    h = body.height
    reps: list[Rep] = []
    partial: list[Rep] = []
    if activity in EXERCISES:
        p, reps, partial = _phase_track(rng, n, fps, exact=squat_depth is not None and activity == "squat")

        def label_at(i: int) -> str | None:
            if p[i] <= UP_BELOW:
                return f"{activity}_up"
            return f"{activity}_down" if p[i] >= DOWN_ABOVE else None

        if activity == "squat":
            style = rng.random()
            bottom = B.SQUAT_BOTTOM_DEG if squat_depth is None else squat_depth
            return (lambda i: B.squat(body, float(p[i]), style, bottom)), label_at, np.array([0.0, 0.5 * h, 0.0]), 1.35 * h, reps, partial
        hand_w = rng.uniform(1.0, 1.7)
        return (lambda i: B.pushup(body, float(p[i]), hand_w)), label_at, np.array([0.45 * h, 0.2 * h, 0.0]), 1.15 * h, reps, partial
    if activity == "stand":
        sway = rng.uniform(0.3, 2.0)
        return (lambda i: B.stand(body, i / fps, sway)), (lambda i: "squat_up"), np.array([0.0, 0.5 * h, 0.0]), 1.35 * h, reps, partial
    if activity == "walk":
        speed, start = rng.uniform(0.6, 1.3), rng.uniform(-2.5, -0.5)
        return (lambda i: B.walk(body, i / fps, speed, start)), (lambda i: "neither"), np.array([0.0, 0.5 * h, 0.0]), 3.0, reps, partial
    if activity == "stretch":
        kind = int(rng.integers(2))
        track = [B.stretch(body, i / fps, kind) for i in range(n)]
        # A near-upright moment of a stretch is a standing posture: left unlabelled, never "neither".
        return (lambda i: track[i][0]), (lambda i: "neither" if track[i][1] >= 0.35 else None), np.array([0.0, 0.5 * h,
                                                                                                          0.0]), 1.35 * h, reps, partial
    if activity == "kneel":
        return (lambda i: B.kneel(body, i / fps)), (lambda i: "neither"), np.array([-0.1 * h, 0.35 * h, 0.0]), 1.1 * h, reps, partial
    if activity == "lie":
        return (lambda i: B.lie(body, i / fps)), (lambda i: "neither"), np.array([0.1 * h, 0.12 * h, 0.0]), 1.2 * h, reps, partial
    if activity == "empty":
        return (lambda i: None), (lambda i: "neither"), np.array([0.0, 0.8, 0.0]), 3.0, reps, partial
    raise UserError(f"unknown activity {activity!r}: choose from {', '.join(ACTIVITIES)}")


def pick_activity(kind: str, rng: np.random.Generator) -> str:
    if kind == "neither":
        return str(rng.choice(NEITHER_ACTIVITIES))
    if kind not in ACTIVITIES:
        raise UserError(f"unknown clip kind {kind!r}: choose from {', '.join(KINDS)}")
    return kind


def render_clip(
    out_dir: Path,
    kind: str,
    seed: int,
    duration: float = 10.0,
    fps: float = 30.0,
    size: tuple[int, int] = (640, 480),
    name: str | None = None,
    squat_depth: float | None = None,
    view: str = "any",
) -> ClipResult:
    """Render one clip deterministically for ``seed``: ``NAME.mp4``, ``NAME.labels.csv``, ``NAME.reps.json``.
    ``squat_depth``: a squat clip's full reps all end with the thighs this many degrees below level (negative: above;
    None: each rep between level and 8 below); ``view``: camera.VIEWS."""
    rng = np.random.default_rng(seed)
    activity = pick_activity(kind, rng)
    n = max(1, int(round(duration * fps)))
    name = name or f"{activity}_{seed:05d}"
    body = B.Body.random(rng)
    look = Look.random(rng)
    pose_at, label_at, target, extent, reps, partial = _scenario(activity, body, rng, n, fps, squat_depth)
    cam = random_camera(rng, target, extent, size, view=view)
    background = (make_background(rng, cam, size) * look.tint).clip(0, 255).astype(np.uint8)
    colours = {k: np.clip(v * look.tint, 0, 255) for k, v in look.colours.items()}
    look = Look(colours, look.light, look.ambient, look.tint)
    shadow = float(rng.uniform(0.15, 0.5))
    sigma = float(rng.uniform(0, 7))
    noise = [np.clip(rng.normal(0, sigma, (size[1], size[0], 3)), -40, 40).astype(np.int16) for _ in range(4)]
    shake = rng.uniform(0, 4) if rng.random() < 0.3 else 0.0
    shake_f = rng.uniform(0.1, 0.5, 2)

    out_dir.mkdir(parents=True, exist_ok=True)
    video = out_dir / f"{name}.mp4"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter.fourcc(*"mp4v"), fps, size)
    if not writer.isOpened():
        raise UserError(f"cannot write video {video}: OpenCV has no mp4v encoder here")
    frame = np.empty_like(background)
    labels: list[str | None] = []
    try:
        for i in range(n):
            np.copyto(frame, background)
            pose = pose_at(i)
            if pose is not None:
                draw_shadow(frame, pose, cam, shadow)
                draw_figure(frame, pose, body, cam, look)
            out = cv2.add(frame, noise[i % 4], dtype=cv2.CV_8U) if sigma > 0.5 else frame
            if shake:
                t = i / fps
                m = np.array([[1, 0, shake * math.sin(2 * math.pi * shake_f[0] * t)],
                              [0, 1, shake * math.cos(2 * math.pi * shake_f[1] * t)]], np.float32)
                out = cv2.warpAffine(out, m, size, borderMode=cv2.BORDER_REFLECT)
            writer.write(out)
            labels.append(label_at(i))
    finally:
        writer.release()

    exercise = activity if activity in EXERCISES else "other"
    result = ClipResult(name, activity, exercise, fps, n, seed, reps, partial, video, out_dir / f"{name}{labelfile.SUFFIX}")
    lf = labelfile.LabelFile(
        labelfile.segments_from_frames(labels), video=video, meta={"group": name, "source": f"homegym synth seed {seed}"}
    )
    labelfile.write(out_dir / f"{name}{labelfile.SUFFIX}", lf)
    info = {k: v for k, v in asdict(result).items() if k not in ("video", "labels")}
    info["rep_times_s"] = [round(r.bottom_frame / fps, 3) for r in reps]
    (out_dir / f"{name}.reps.json").write_text(json.dumps(info, indent=1) + "\n")
    return result
