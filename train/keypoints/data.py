"""The keypoint classifier's training data: the pose stage's keypoints of each clip (``homegym poses``,
cached), their features (``core.keypoint_features``, the daemon's own), and per-frame labels from the
rep marks (``label --from-reps``'s rule).

A frame where the pose stage found nobody is ``neither`` whatever the rep marks say: the daemon's
classifier sees the same empty features there, and must not make a phase of them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from homegym.core import keypoint_features as kf
from homegym.core import manifest
from homegym.core.errors import UserError
from homegym.core.labels import NEITHER, PHASES, order_labels
from homegym.core.pose_track import PoseTrack, track_path, video_digest

from ..from_reps import DEFAULT_EXERCISES, derive
from . import augment

log = logging.getLogger(__name__)


def labels_for(exercises: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """A keypoint classifier's labels: ``neither`` and each exercise's phases, in the canonical order."""
    return order_labels((NEITHER, *(f"{ex}_{phase}" for ex in exercises for phase in PHASES)))


LABELS = labels_for(DEFAULT_EXERCISES)


@dataclass
class KeypointClip:
    name: str
    group: str  # the source: cross-validation never puts one source on both sides
    split: str | None
    exercise: str
    reps: int | None
    frame: np.ndarray  # (n,) source frame numbers of the recorded frames
    t: np.ndarray  # (n,) seconds
    y: np.ndarray  # (n,) label index, -1 unlabelled: what training fits
    y_rule: np.ndarray  # (n,) the same by label --from-reps's own rule (what eval scores; differs where ``postures`` does)
    x: np.ndarray  # (n, F) features
    x_augmented: list[np.ndarray]  # (n, F) each: the same frames mirrored, and as other cameras would have seen them
    found: np.ndarray  # (n,) bool


def track_features(track: PoseTrack, spec: kf.FeatureSpec, view: augment.View | None = None) -> np.ndarray:
    v = view or augment.original(track)
    ff = kf.frame_features(v.xy, v.world, v.visibility, track.presence, track.found, max(track.width, track.height))
    return kf.features(ff, track.t, spec)


def load(rows: list[manifest.ClipRow], tracks: list[Path], label_poses: Path | None, spec: kf.FeatureSpec,
         postures: str = "out", mirror: bool = True, views: int = 0, seed: int = 0,
         exercises: tuple[str, ...] = DEFAULT_EXERCISES) -> list[KeypointClip]:
    """Every clip of ``rows`` with a keypoint file in ``tracks`` and usable rep marks, labelled for a model of
    ``exercises`` (a clip of another exercise is one of other movements); with ``mirror`` and ``views`` (rotated
    views per clip) the augmented copies of its features."""
    rows = [r.scored_for(exercises) for r in rows]
    labels = labels_for(exercises)
    rng = np.random.default_rng(seed)
    missing = [r.path.name for r in rows if not track_path(tracks, r.name).exists()]
    if missing:
        raise UserError(f"no keypoints for {len(missing)} clip(s) in {', '.join(map(str, tracks))}, e.g. {missing[0]}: "
                        "run homegym poses first")
    index = {lab: i for i, lab in enumerate(labels)}
    out = []
    rule = {r.name: lf for r, lf in derive(rows, label_poses, known=exercises, tracks=tracks)} if postures != "out" else {}
    for row, lf in derive(rows, label_poses, postures, exercises, tracks):
        track = PoseTrack.load(track_path(tracks, row.name))
        if track.video_sha256 and track.video_sha256 != video_digest(row.path):
            raise UserError(f"{track_path(tracks, row.name)}: made from another video than {row.path} (re-encoded since?): "
                            "run homegym poses again")
        unknown = lf.labels - set(labels)
        if unknown:
            raise UserError(f"{row.path.name}: labels {sorted(unknown)} are not the keypoint classifier's {list(labels)}")
        n = int(track.frame.max()) + 1
        y = np.where(track.found, lf.per_frame(n, index)[track.frame], index[NEITHER])
        y_rule = np.where(track.found, rule[row.name].per_frame(n, index)[track.frame], index[NEITHER]) if rule else y
        out.append(KeypointClip(row.name, row.extra.get("source_repo") or row.path.stem, row.split, row.exercise, row.reps,
                                track.frame, track.t.astype(np.float64), y, y_rule, track_features(track, spec),
                                [track_features(track, spec, v) for v in ([augment.mirrored(track)] if mirror else [])
                                 + augment.random_views(track, views, rng)], track.found))
    log.info("%d clips, %d frames, %d labelled", len(out), sum(len(c.y) for c in out), sum(int((c.y >= 0).sum()) for c in out))
    return out
