"""Reading video files with OpenCV, with one-line errors for the files users actually pass."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from .errors import UserError

# FFmpeg would print its own diagnosis ("moov atom not found") beside our one-line error; a user
# who wants it back sets OPENCV_FFMPEG_LOGLEVEL themselves.
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")


@dataclass(frozen=True)
class VideoInfo:
    path: Path
    fps: float
    frames: int  # as the container reports it; decoding may yield a few fewer
    width: int
    height: int


def open_video(path: Path) -> tuple[cv2.VideoCapture, VideoInfo]:
    """Open a video file and check that it decodes at least its first frame."""
    path = Path(path)
    if not path.exists():
        raise UserError(f"video not found: {path}")
    if path.is_dir():
        raise UserError(f"expected a video file, got a directory: {path}")
    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        raise UserError(f"cannot open video {path}: not a video OpenCV can decode")
    ok, _ = cap.read()
    if not ok:
        cap.release()
        raise UserError(f"cannot decode video {path}: no frame could be read")
    frames = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    if frames <= 0:  # some containers (GIF, streams) do not say: count by decoding
        frames = 1
        while cap.grab():
            frames += 1
        cap.release()
        cap = cv2.VideoCapture(str(path))
    cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
    fps = cap.get(cv2.CAP_PROP_FPS)
    info = VideoInfo(
        path=path,
        fps=fps if fps and 1.0 <= fps <= 240.0 else 30.0,
        frames=frames,
        width=int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)),
        height=int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)),
    )
    return cap, info


def iter_frames(
    path: Path, stride: int = 1, size: tuple[int, int] | None = None
) -> Iterator[tuple[int, np.ndarray]]:
    """Yield (frame index, BGR frame) for every ``stride``-th frame, resized to ``size`` (w, h) if given.

    Frames between the sampled ones are grabbed but not decoded to pixels, which is
    what makes a stride cheap.
    """
    cap, _ = open_video(path)
    try:
        i = 0
        while True:
            if i % stride == 0:
                ok, frame = cap.read()
                if not ok:
                    return
                if size is not None:
                    frame = cv2.resize(frame, size, interpolation=cv2.INTER_AREA)
                yield i, frame
            elif not cap.grab():
                return
            i += 1
    finally:
        cap.release()
