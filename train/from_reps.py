"""Per-frame labels from rep marks (``homegym label --from-reps``).

The rule, for a clip of exercise E with turn points b1 < b2 < ... (frames: ``rep_bottom_frames``, the far end of
each rep; ``core.exercises`` names E's turn and start positions, e.g. ``pushup_down`` and ``pushup_up``,
``pullup_up`` and ``pullup_down``):

* frames within ``DOWN_FRAC`` of the local rep period around a turn point are E's turn label;
* frames within ``UP_FRAC`` of the gap around the midpoint of two consecutive
  turn points are E's start label (for a gap longer than twice the median, a pause, the
  window keeps the median's width);
* every other frame is left out: the transitions, and the time before the first
  and after the last turn point, where the person may be walking in or resting;
* a clip of another movement (exercise ``other``) is ``neither`` throughout,
  except, where a pose is known, frames in the posture a known exercise starts from (standing, a plank; lying for
  sit-ups, hanging for pull-ups), which are left out (DESIGN.md: those are the start of a rep).

With a pose (the pose stage's keypoints, ``homegym poses``; or a MediaPipe trace, ``poses/<clip>.json``), each
rep cycle is sharpened: the exercise's signal (``core.body.SIGNALS``: the elbow for push-ups, the knee for squats, the hip
for sit-ups, the armpits' opening for jumping jacks, falling back to a height) is normalised to a depth in
[0, 1] within the cycle; frames near a turn point with depth >= 0.8 become the turn, frames near a midpoint with
depth <= 0.2 become the start, and window frames that the pose contradicts (turn with depth < 0.5, start with
depth > 0.5) are left out.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from homegym.core import body, exercises, labelfile, manifest
from homegym.core.errors import UserError
from homegym.core.pose_track import PoseTrack, track_path
from homegym.core.video import open_video

log = logging.getLogger(__name__)

DEFAULT_EXERCISES = ("pushup", "squat")  # what ``homegym train`` learns unless told (--exercises all: the eight)
DOWN_FRAC = 0.12
UP_FRAC = 0.12
NEAR_FRAC = 0.3  # how far from a bottom / midpoint the pose may extend a window
MIN_RANGE = {"angle": 20.0, "height": 0.03}


@dataclass(frozen=True)
class Signal:
    values: np.ndarray  # per frame, NaN where unknown
    kind: str  # "angle" (degrees) or "height" (image y, 0..1): MIN_RANGE's key
    grows: bool  # whether it grows towards the turn point


def read_pose_fields(pose_file: Path, n: int) -> dict[str, np.ndarray]:
    """The per-frame fields of a MediaPipe trace over frames [0, n) (``core.body``'s names), NaN where no person was
    found or the trace has no such field."""
    try:
        data = json.loads(pose_file.read_text())
    except (OSError, ValueError) as e:
        raise UserError(f"cannot read pose trace {pose_file}: {e}") from None
    fields = {k: np.full(n, np.nan) for k in body.FIELDS}
    for row in data.get("rows", []):
        i = row.get("i", -1)
        if 0 <= i < n and row.get("ok"):
            for k in fields:
                if k in row:
                    fields[k][i] = row[k]
    return fields


POSE_TARGETS = ("elbow", "knee", "hip")
VISIBILITY = {"elbow": "ve", "knee": "vk"}  # the visibility field of each joint a trace grades


def visible_angle(fields: dict[str, np.ndarray], joint: str) -> np.ndarray:
    """A joint's angle per frame, NaN where it was seen with visibility under 0.5 (a field without a grade as it is)."""
    grade = VISIBILITY.get(joint)
    return np.where(fields[grade] >= body.SEEN, fields[joint], np.nan) if grade else fields[joint]


def pose_angles(fields: dict[str, np.ndarray]) -> np.ndarray:
    """(n, 3) elbow, knee and hip angles scaled to about [-1, 1] ((deg - 90) / 90), NaN where a joint
    is not visible: training targets that say where the body is bent, whatever the room.

    Angles, not heights: flips, shifts and zooms (the augmentation) leave them as they are."""
    cols = [visible_angle(fields, "elbow"), visible_angle(fields, "knee"), fields["hipang"]]
    return ((np.stack(cols, axis=1) - 90.0) / 90.0).astype(np.float32)


def pose_signal(fields: dict[str, np.ndarray], exercise: str) -> Signal | None:
    """The exercise's signal from the fields: its joint where seen in half the frames or more, else its height."""
    if exercise not in body.SIGNALS:
        return None
    (joint, grows), (height, rises) = body.SIGNALS[exercise]
    angle = visible_angle(fields, joint)
    if np.isfinite(angle).mean() >= 0.5:
        return Signal(angle, "angle", grows)
    return Signal(fields[height], "height", rises)


def _depth(sig: Signal, lo: int, hi: int) -> np.ndarray | None:
    """Depth in [0, 1] over frames [lo, hi) (1 = the turn), or None if the pose does not resolve the cycle."""
    seg = sig.values[lo:hi]
    if np.isfinite(seg).sum() < max(3, 0.5 * len(seg)):
        return None
    a, b = np.nanpercentile(seg, 5), np.nanpercentile(seg, 95)
    if b - a < MIN_RANGE[sig.kind]:
        return None
    d = (seg - a) / (b - a) if sig.grows else (b - seg) / (b - a)
    return np.clip(d, 0, 1)


def rep_labels(exercise: str, bottoms: list[int], n: int, fps: float, sig: Signal | None = None) -> list[str | None]:
    """Per-frame labels of a rep clip by the module's rule (``bottoms``: the turn points)."""
    out: list[str | None] = [None] * n
    b = sorted(x for x in bottoms if 0 <= x < n)
    if not b:
        return out
    gaps = np.diff(b)
    median = float(np.median(gaps)) if len(gaps) else 2.0 * fps
    ex = exercises.of(exercise)
    down, up = ex.label(exercises.TURN), ex.label(exercises.START)
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


POSTURES = ("out", "up", "neither")  # what becomes of the start postures' frames of a clip of other movements


def posture_masks(fields: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Per frame, whether the body is in each posture an exercise starts from (``core.exercises``' ``posture``)."""
    straight = (fields["knee"] >= 150) & (fields["hipang"] >= 145)
    torso = fields["hip_y"] - fields["sh_y"]  # image y grows downwards: > 0 means shoulders above hips
    upright = torso > 0.08
    flat = np.abs(torso) < 0.08
    return {"standing": straight & upright, "plank": straight & flat & (fields["elbow"] >= 140),
            "lying": flat, "hanging": upright & (fields["wr_y"] < fields["nose_y"])}


def other_labels(n: int, fields: dict[str, np.ndarray] | None, postures: str = "out",
                 known: tuple[str, ...] = DEFAULT_EXERCISES) -> list[str | None]:
    """``neither`` for every frame, except where the pose shows the posture a rep of one of ``known`` starts from:
    left out (``out``, the rule ``label --from-reps`` and ``eval`` use), labelled the start it is (``up``: standing
    ``squat_up``, a plank ``pushup_up``, for a model that knows them; DESIGN.md allows it), or ``neither`` like the
    rest (no set, no phase: a set gate learnt)."""
    out: list[str | None] = ["neither"] * n
    if fields is None:
        return out
    masks = posture_masks(fields)
    as_start = {"standing": "squat", "plank": "pushup"}
    for posture in dict.fromkeys(exercises.of(ex).posture for ex in known):
        if posture not in masks:
            continue
        start = as_start.get(posture)
        label = exercises.of(start).label(exercises.START) if start in known and postures == "up" else None
        for f in np.nonzero(masks[posture])[0]:
            if out[int(f)] == "neither":
                out[int(f)] = {"out": None, "up": label, "neither": "neither"}[postures]
    return out


def clip_fields(row: manifest.ClipRow, n: int, tracks: list[Path] | None, traces: Path | None) -> tuple[dict[str, np.ndarray] | None, str]:
    """The pose that sharpens a clip's labels, and its name for the rule: the pose stage's keypoints (``tracks``,
    the first folder holding the clip's) unless ``traces`` names a folder of MediaPipe traces; None without either."""
    if traces is not None:
        trace = traces / f"{row.name}.json"
        return (read_pose_fields(trace, n), "+pose") if trace.exists() else (None, "")
    path = track_path(tracks, row.name) if tracks else None
    if path is not None and path.exists():
        return body.measures(PoseTrack.load(path), n), "+keypoints"
    return None, ""


def derive(rows: list[manifest.ClipRow], traces: Path | None, postures: str = "out",
           known: tuple[str, ...] = DEFAULT_EXERCISES, tracks: list[Path] | None = None,
           ) -> list[tuple[manifest.ClipRow, labelfile.LabelFile]]:
    """Labels for every usable clip of a manifest, for a model of the exercises ``known``; clips with an unknown count
    are skipped (logged). The pose: ``clip_fields``. ``postures``: see ``other_labels`` (training's choice;
    ``label --from-reps`` and ``eval`` keep those frames out)."""
    out = []
    for row in rows:
        if row.exercise != manifest.OTHER and (row.reps is None or len(row.bottoms) != row.reps):
            log.warning("skipping %s: rep count %s does not match its %d marked bottoms", row.path.name, row.reps, len(row.bottoms))
            continue
        cap, info = open_video(row.path)
        cap.release()
        n = info.frames
        fps = row.fps or info.fps
        fields, source = clip_fields(row, n, tracks, traces)
        if row.exercise == manifest.OTHER:
            frame_labels = other_labels(n, fields, postures, known)
        else:
            sig = pose_signal(fields, row.exercise) if fields is not None else None
            frame_labels = rep_labels(row.exercise, list(row.bottoms), n, fps, sig)
        meta = {"exercise": row.exercise, "group": row.extra.get("source_repo") or row.path.stem,
                "rule": "from-reps" + source + (f"+postures-{postures}" if postures != "out" else "")}
        if row.split:
            meta["split"] = row.split
        out.append((row, labelfile.LabelFile(labelfile.segments_from_frames(frame_labels), video=row.path, meta=meta)))
    return out


def write_all(manifest_path: Path, out_dir: Path, poses_dir: Path | None, tracks: Path | None = None,
              known: tuple[str, ...] = exercises.EXERCISES) -> list[Path]:
    """Label files for a manifest's clips, for a model of ``known``: sharpened by the keypoints in ``tracks`` if
    given, else by the traces in ``poses_dir`` (default: poses/ beside the manifest, where there is one)."""
    rows = [r.scored_for(known) for r in manifest.read(manifest_path)]
    if tracks is None and poses_dir is None and (manifest_path.parent / "poses").is_dir():
        poses_dir = manifest_path.parent / "poses"
    written = []
    for row, lf in derive(rows, poses_dir, known=known, tracks=[tracks] if tracks else None):
        path = out_dir / f"{row.path.stem}{labelfile.SUFFIX}"
        labelfile.write(path, lf)
        written.append(path)
    return written
