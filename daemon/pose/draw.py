"""The pose stage's result drawn on its canvas: the crop it came from and the skeleton. ``--annotate`` and the live
page's picture draw it alike."""

from __future__ import annotations

import cv2
import numpy as np

from .stage import Pose

# BlazePose's 33-landmark skeleton (MediaPipe's POSE_CONNECTIONS)
SKELETON = ((0, 1), (1, 2), (2, 3), (3, 7), (0, 4), (4, 5), (5, 6), (6, 8), (9, 10), (11, 12), (11, 13), (13, 15), (15, 17),
            (15, 19), (15, 21), (17, 19), (12, 14), (14, 16), (16, 18), (16, 20), (16, 22), (18, 20), (11, 23), (12, 24),
            (23, 24), (23, 25), (24, 26), (25, 27), (26, 28), (27, 29), (28, 30), (29, 31), (30, 32), (27, 31), (28, 32))
VISIBLE = 0.5


def draw_pose(img: np.ndarray, pose: Pose, width: int, height: int) -> None:
    """On ``img``, whose top-left ``width`` x ``height`` pixels are the canvas: the crop (yellow; red when the detector
    had to run), the bones and joints (grey where not visible)."""
    side = np.array([width, height], np.float32)
    if pose.roi is not None:
        corners = (pose.roi.corners() * side).astype(np.int32)
        cv2.polylines(img, [corners], True, (0, 0, 255) if pose.detected else (0, 220, 255), 1, cv2.LINE_AA)
    if not pose.found:
        return
    pts = (pose.landmarks[:, :2] * side).astype(np.int32)
    vis = pose.landmarks[:, 3] >= VISIBLE
    for a, b in SKELETON:
        col = (80, 230, 80) if vis[a] and vis[b] else (120, 120, 120)
        cv2.line(img, tuple(pts[a]), tuple(pts[b]), col, 2, cv2.LINE_AA)
    for p, v in zip(pts, vis):
        cv2.circle(img, tuple(p), 3, (255, 255, 255) if v else (120, 120, 120), -1, cv2.LINE_AA)
