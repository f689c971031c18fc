"""A whole video through the pose stage, to a keypoint file: ``homegym pose VIDEO -o OUT.npz``.

The same letterbox, tracker and IRs the daemon runs, so keypoints for training and for debugging
are the daemon's own (DESIGN.md). The file's layout (docs/pose.md) is also what the MediaPipe
reference writes (measure/pose_reference.py), so the two compare frame by frame.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from homegym.core.errors import UserError
from homegym.core.letterbox import Letterbox
from homegym.core.pose_track import PoseTrack
from homegym.core.video import iter_frames, open_video

from .stage import Pose, PoseTracker


def frame_pose(pose: Pose, letterbox: Letterbox) -> tuple[np.ndarray, np.ndarray]:
    """A stage result in the frame's coordinates: (33, 4) landmarks and (4,) crop, NaN where not found."""
    if not pose.found:
        lm = np.full((pose.landmarks.shape[0], 4), np.nan, np.float32)
    else:
        lm = pose.landmarks.copy()
        lm[:, :2] = letterbox.to_frame(lm[:, :2])
        lm[:, 2] *= letterbox.size / letterbox.box.w  # z on x's scale, as x
    r = pose.roi
    roi = np.array([r.cx, r.cy, r.size, r.rotation] if r is not None else [np.nan] * 4, np.float32)
    return lm, roi


def record(video: Path, tracker: PoseTracker, frame_size: int, stride: int = 1) -> PoseTrack:
    _, info = open_video(video)
    tracker.reset()  # whoever the last video followed is not in this one
    letterbox = Letterbox(frame_size)
    canvas = np.zeros((frame_size, frame_size, 3), np.uint8)
    rows: list[tuple] = []
    busy = 0.0
    for i, frame in iter_frames(video, stride):
        letterbox(frame, dst=canvas)
        t0 = time.perf_counter()
        pose = tracker.step(canvas, i / info.fps)
        busy += time.perf_counter() - t0
        lm, roi = frame_pose(pose, letterbox)
        world = pose.world if pose.found else np.full_like(pose.world, np.nan)
        rows.append((i, lm, world, pose.presence, pose.found, roi, pose.detected))
    if not rows:
        raise UserError(f"{video}: no frame decoded")
    cols = list(zip(*rows))
    frames = np.array(cols[0], np.int32)
    return PoseTrack(frames, (frames / info.fps).astype(np.float32), np.stack(cols[1]), np.stack(cols[2]).astype(np.float32),
                     np.array(cols[3], np.float32), np.array(cols[4], bool), np.stack(cols[5]), np.array(cols[6], bool),
                     info.fps, info.width, info.height, busy)
