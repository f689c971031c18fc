"""``--annotate OUT.mp4``: the video with why it counted — the count, the voted phase, the class
probabilities as bars, a scrolling timeline of the smoothed probabilities, and where the pose stage
runs, the skeleton, the crop it came from and the person's presence."""

from __future__ import annotations

from collections import deque
from pathlib import Path

import cv2
import numpy as np

from homegym.core.errors import UserError

from ..pose.draw import draw_pose
from ..pose.stage import Pose
from .observer import FrameView, Observer

PANEL_W = 260
TIMELINE = 150  # frames shown in the timeline
COLOURS = [(160, 160, 160), (80, 200, 80), (60, 60, 230), (230, 170, 40), (200, 60, 200), (40, 200, 230), (120, 120, 255)]


class Annotator(Observer):
    wants_frames = True

    def __init__(self, path: Path, labels: tuple[str, ...], fps: float, working_size: tuple[int, int]) -> None:
        self.labels = labels
        w, h = working_size
        self.scale = max(1.0, 360 / h)
        self.vw, self.vh = int(w * self.scale), int(h * self.scale)
        self.size = (self.vw + PANEL_W, max(self.vh, 60 + 22 * len(labels) + 110))
        self.writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), fps, self.size)
        if not self.writer.isOpened():
            raise UserError(f"cannot write {path}: no mp4v encoder or the folder is not writable")
        self.history: deque[np.ndarray] = deque(maxlen=TIMELINE)

    def on_frame(self, f: FrameView) -> None:
        if f.pixels is None:
            return
        t, probs, vote, counter = f.t, f.probs, f.vote, f.counter
        img = np.zeros((self.size[1], self.size[0], 3), np.uint8)
        img[: self.vh, : self.vw] = cv2.resize(f.pixels, (self.vw, self.vh), interpolation=cv2.INTER_LINEAR)
        x0 = self.vw + 10
        if f.pose is not None:
            self._skeleton(img, f.pose)

        def put(text: str, y: int, scale: float = 0.55, col: tuple[int, int, int] = (255, 255, 255)) -> None:
            cv2.putText(img, text, (x0, y), cv2.FONT_HERSHEY_SIMPLEX, scale, col, 1, cv2.LINE_AA)

        s = counter.current
        put(f"total {counter.total}", 28, 0.8)
        put(f"set {s.number}: {s.reps} {s.exercise}" if s else "no set", 52)
        put(f"phase {vote.phase or '-'}   t {t:6.1f}s", 74, 0.45)
        for i, lab in enumerate(self.labels):
            y = 96 + 22 * i
            cv2.rectangle(img, (x0 + 95, y - 12), (x0 + 95 + int(140 * probs[i]), y + 2), COLOURS[i % len(COLOURS)], -1)
            cv2.rectangle(img, (x0 + 95, y - 12), (x0 + 95 + int(140 * vote.smoothed[i]), y + 2), (255, 255, 255), 1)
            put(lab[:12], y, 0.42)
        self.history.append(vote.smoothed.copy())
        ty, th = 96 + 22 * len(self.labels) + 10, 90
        cv2.rectangle(img, (x0, ty), (x0 + 240, ty + th), (60, 60, 60), 1)
        if len(self.history) > 1:
            hist = np.array(self.history)
            xs = x0 + np.arange(len(hist)) * 240 // TIMELINE
            for i in range(len(self.labels)):
                pts = np.stack([xs, ty + th - (hist[:, i] * th).astype(int)], axis=1).astype(np.int32)
                cv2.polylines(img, [pts], False, COLOURS[i % len(COLOURS)], 1, cv2.LINE_AA)
        self.writer.write(img)

    def _skeleton(self, img: np.ndarray, pose: Pose) -> None:
        """The crop and the skeleton, and the person's presence."""
        draw_pose(img, pose, self.vw, self.vh)
        text = f"person {pose.presence:.2f}" if pose.found else "no person" + (" (detecting)" if pose.detected else "")
        cv2.putText(img, text, (8, self.vh - 10), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1, cv2.LINE_AA)

    def close(self) -> None:
        self.writer.release()
