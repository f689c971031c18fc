"""Per-frame labels from rep marks (``homegym label --from-reps``).

The rule, for a clip of exercise E with rep bottoms b1 < b2 < ... (frames):

* frames within ``DOWN_FRAC`` of the local rep period around a bottom are ``E_down``;
* frames within ``UP_FRAC`` of the gap around the midpoint of two consecutive
  bottoms are ``E_up`` (for a gap longer than twice the median, a pause, the
  window keeps the median's width);
* every other frame is left out: the transitions, and the time before the first
  and after the last bottom, where the person may be walking in or resting;
* a clip of another movement (exercise ``other``) is ``neither`` throughout,
  except, where a pose trace exists, frames in a standing or plank posture, which
  are left out (DESIGN.md: those postures are the top of a squat or a push-up).

With a pose trace (``poses/<clip>.json``: elbow/knee angles, normalised heights),
each rep cycle is sharpened: the signal of the exercise (elbow angle for push-ups,
knee angle for squats, falling back to shoulder or hip height) is normalised to a
depth in [0, 1] within the cycle; frames near a bottom with depth >= 0.8 become
down, frames near a midpoint with depth <= 0.2 become up, and window frames that
the pose contradicts (down with depth < 0.5, up with depth > 0.5) are left out.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from homegym.core import labelfile, manifest
from homegym.core.errors import UserError
from homegym.core.video import open_video

log = logging.getLogger(__name__)

DEFAULT_EXERCISES = ("pushup", "squat")  # what ``homegym train`` learns unless told: the shipped models' exercises
DOWN_FRAC = 0.12
UP_FRAC = 0.12
NEAR_FRAC = 0.3  # how far from a bottom / midpoint the pose may extend a window
MIN_RANGE = {"angle": 20.0, "height": 0.03}


@dataclass(frozen=True)
class Signal:
    values: np.ndarray  # per frame, NaN where unknown
    kind: str  # "angle" (big = up) or "height" (image y, big = down)


def read_pose_fields(pose_file: Path, n: int) -> dict[str, np.ndarray]:
    """The raw per-frame fields of a pose trace over frames [0, n), NaN where no person was found."""
    try:
        data = json.loads(pose_file.read_text())
    except (OSError, ValueError) as e:
        raise UserError(f"cannot read pose trace {pose_file}: {e}") from None
    fields = {k: np.full(n, np.nan) for k in ("elbow", "ve", "knee", "vk", "hipang", "sh_y", "hip_y", "nose_y")}
    for row in data.get("rows", []):
        i = row.get("i", -1)
        if 0 <= i < n and row.get("ok"):
            for k in fields:
                if k in row:
                    fields[k][i] = row[k]
    return fields


POSE_TARGETS = ("elbow", "knee", "hip")
VISIBILITY = {"elbow": "ve", "knee": "vk"}  # the trace's visibility field of each joint it grades


def visible_angle(fields: dict[str, np.ndarray], joint: str) -> np.ndarray:
    """A joint's angle per frame, NaN where the estimator saw the joint with visibility under 0.5."""
    return np.where(fields[VISIBILITY[joint]] >= 0.5, fields[joint], np.nan)


def pose_angles(fields: dict[str, np.ndarray]) -> np.ndarray:
    """(n, 3) elbow, knee and hip angles scaled to about [-1, 1] ((deg - 90) / 90), NaN where a joint
    is not visible: training targets that say where the body is bent, whatever the room.

    Angles, not heights: flips, shifts and zooms (the augmentation) leave them as they are."""
    cols = [visible_angle(fields, "elbow"), visible_angle(fields, "knee"), fields["hipang"]]
    return ((np.stack(cols, axis=1) - 90.0) / 90.0).astype(np.float32)


def load_pose_signal(pose_file: Path, exercise: str, n: int) -> tuple[Signal | None, dict[str, np.ndarray]]:
    """The exercise's depth signal and the raw per-frame fields of a pose trace."""
    fields = read_pose_fields(pose_file, n)
    joint, height = {"pushup": ("elbow", "sh_y"), "squat": ("knee", "hip_y")}.get(exercise, (None, None))
    if joint is None or height is None:
        return None, fields
    angle = visible_angle(fields, joint)
    if np.isfinite(angle).mean() >= 0.5:
        return Signal(angle, "angle"), fields
    return Signal(fields[height], "height"), fields


def _depth(sig: Signal, lo: int, hi: int) -> np.ndarray | None:
    """Depth in [0, 1] over frames [lo, hi) (1 = bottom), or None if the pose does not resolve the cycle."""
    seg = sig.values[lo:hi]
    if np.isfinite(seg).sum() < max(3, 0.5 * len(seg)):
        return None
    a, b = np.nanpercentile(seg, 5), np.nanpercentile(seg, 95)
    if b - a < MIN_RANGE[sig.kind]:
        return None
    d = (b - seg) / (b - a) if sig.kind == "angle" else (seg - a) / (b - a)
    return np.clip(d, 0, 1)


def rep_labels(exercise: str, bottoms: list[int], n: int, fps: float, sig: Signal | None = None) -> list[str | None]:
    """Per-frame labels of a rep clip by the module's rule."""
    out: list[str | None] = [None] * n
    b = sorted(x for x in bottoms if 0 <= x < n)
    if not b:
        return out
    gaps = np.diff(b)
    median = float(np.median(gaps)) if len(gaps) else 2.0 * fps
    down, up = f"{exercise}_down", f"{exercise}_up"
    for i, bot in enumerate(b):
        near = [float(g) for g in (gaps[i - 1] if i > 0 else None, gaps[i] if i < len(gaps) else None) if g is not None]
        period = min(min(near) if near else median, 2.0 * median)
        w = max(1, round(DOWN_FRAC * period))
        for f in range(max(0, bot - w), min(n, bot + w + 1)):
            out[f] = down
    for i, g in enumerate(gaps):
        mid = (b[i] + b[i + 1]) // 2
        w = max(1, round(UP_FRAC * min(float(g), 2.0 * median)))
        for f in range(max(0, mid - w), min(n, mid + w + 1)):
            out[f] = up
    if sig is None:
        return out
    # Sharpen each cycle [previous midpoint, next midpoint) with the pose.
    edges = [max(0, b[0] - round(median / 2))] + [(b[i] + b[i + 1]) // 2 for i in range(len(gaps))] + [min(n, b[-1] + round(median / 2))]
    for i, bot in enumerate(b):
        lo, hi = edges[i], edges[i + 1]
        d = _depth(sig, lo, hi)
        if d is None:
            continue
        reach = round(NEAR_FRAC * (hi - lo))
        for f in range(lo, hi):
            di = d[f - lo]
            if not np.isfinite(di):
                continue
            if out[f] == down and di < 0.5 or out[f] == up and di > 0.5:
                out[f] = None
            elif abs(f - bot) <= reach and di >= 0.8:
                out[f] = down
            elif i > 0 and abs(f - lo) <= reach and di <= 0.2 and f < bot:
                out[f] = up
            elif i < len(gaps) and abs(f - hi) <= reach and di <= 0.2 and f > bot:
                out[f] = up
    return out


POSTURES = ("out", "up", "neither")  # what becomes of the standing and plank frames of a clip of other movements


def other_labels(n: int, fields: dict[str, np.ndarray] | None, postures: str = "out") -> list[str | None]:
    """``neither`` for every frame, except standing or plank postures seen by the pose trace: left out (``out``, the
    rule ``label --from-reps`` and ``eval`` use), labelled the top they are (``up``: standing ``squat_up``, a plank
    ``pushup_up``; DESIGN.md allows it), or ``neither`` like the rest (no set, no phase: a set gate learnt)."""
    out: list[str | None] = ["neither"] * n
    if fields is None:
        return out
    straight = (fields["knee"] >= 150) & (fields["hipang"] >= 145)
    torso = fields["hip_y"] - fields["sh_y"]  # image y grows downwards: > 0 means shoulders above hips
    standing = straight & (torso > 0.08)
    plank = straight & (np.abs(torso) < 0.08) & (fields["elbow"] >= 140)
    for f in np.nonzero(standing | plank)[0]:
        out[int(f)] = {"out": None, "up": "squat_up" if standing[f] else "pushup_up", "neither": "neither"}[postures]
    return out


def derive(rows: list[manifest.ClipRow], poses_dir: Path | None,
           postures: str = "out") -> list[tuple[manifest.ClipRow, labelfile.LabelFile]]:
    """Labels for every usable clip of a manifest; clips with an unknown count are skipped (logged). ``postures``:
    see ``other_labels`` (training's choice; ``label --from-reps`` and ``eval`` keep those frames out)."""
    out = []
    for row in rows:
        if row.exercise != manifest.OTHER and (row.reps is None or len(row.bottoms) != row.reps):
            log.warning("skipping %s: rep count %s does not match its %d marked bottoms", row.path.name, row.reps, len(row.bottoms))
            continue
        cap, info = open_video(row.path)
        cap.release()
        n = info.frames
        fps = row.fps or info.fps
        pose_file = poses_dir / f"{row.path.stem}.json" if poses_dir else None
        sig, fields = (None, None)
        if pose_file is not None and pose_file.exists():
            sig, fields = load_pose_signal(pose_file, row.exercise, n)
        if row.exercise == manifest.OTHER:
            frame_labels = other_labels(n, fields, postures)
        else:
            frame_labels = rep_labels(row.exercise, list(row.bottoms), n, fps, sig)
        meta = {"exercise": row.exercise, "group": row.extra.get("source_repo") or row.path.stem,
                "rule": "from-reps" + ("+pose" if fields is not None else "") + (f"+postures-{postures}" if postures != "out" else "")}
        if row.split:
            meta["split"] = row.split
        out.append((row, labelfile.LabelFile(labelfile.segments_from_frames(frame_labels), video=row.path, meta=meta)))
    return out


def write_all(manifest_path: Path, out_dir: Path, poses_dir: Path | None) -> list[Path]:
    rows = manifest.read(manifest_path)
    if poses_dir is None and (manifest_path.parent / "poses").is_dir():
        poses_dir = manifest_path.parent / "poses"
    written = []
    for row, lf in derive(rows, poses_dir):
        path = out_dir / f"{row.path.stem}{labelfile.SUFFIX}"
        labelfile.write(path, lf)
        written.append(path)
    return written
