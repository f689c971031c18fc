"""Sources through OpenCV: a V4L2 camera (index or /dev/videoN), a video file, or an RTSP/HTTP URL."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

import cv2

from homegym.core.errors import UserError
from homegym.core.video import capture_file

log = logging.getLogger(__name__)
URL = re.compile(r"^(rtsp|rtsps|http|https|rtmp|udp|tcp)://", re.I)


@dataclass(frozen=True)
class SourceKind:
    kind: str  # "camera", "file" or "stream"
    target: int | str

    @property
    def live(self) -> bool:
        return self.kind != "file"


def classify(uri: int | str) -> SourceKind:
    if isinstance(uri, int) or (isinstance(uri, str) and uri.isdigit()):
        return SourceKind("camera", int(uri))
    if URL.match(uri):
        return SourceKind("stream", uri)
    if uri.startswith("/dev/video"):
        return SourceKind("camera", uri)
    return SourceKind("file", str(Path(uri).expanduser()))


def open_capture(src: SourceKind, width: int, height: int, fps: float, read_timeout_s: float) -> cv2.VideoCapture | None:
    """Open the source; None if it cannot be opened now (the caller decides whether to retry)."""
    if src.kind == "file":
        if not Path(str(src.target)).exists():
            raise UserError(f"video not found: {src.target}")
        cap = capture_file(str(src.target))
    elif src.kind == "stream":
        ms = int(read_timeout_s * 1000)
        cap = cv2.VideoCapture(src.target, cv2.CAP_FFMPEG, [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, ms, cv2.CAP_PROP_READ_TIMEOUT_MSEC, ms,
                                             cv2.CAP_PROP_N_THREADS, 1])
    else:
        cap = cv2.VideoCapture(src.target, cv2.CAP_V4L2) if isinstance(src.target, str) else cv2.VideoCapture(src.target)
        if cap.isOpened():
            cap.set(cv2.CAP_PROP_FRAME_WIDTH, width)
            cap.set(cv2.CAP_PROP_FRAME_HEIGHT, height)
            cap.set(cv2.CAP_PROP_FPS, fps)
            cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)  # the newest frame, not a queue of stale ones
    if not cap.isOpened():
        cap.release()
        if src.kind == "file":
            raise UserError(f"cannot open video {src.target}: not a video OpenCV can decode")
        return None
    return cap
