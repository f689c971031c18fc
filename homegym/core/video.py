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
if "OPENCV_LOG_LEVEL" not in os.environ:  # nor OpenCV its own warning ("can't be used to capture by name")
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)


@dataclass(frozen=True)
class VideoInfo:
    path: Path
    fps: float
    frames: int  # as the container reports it; decoding may yield a few fewer
    width: int
    height: int


def downscale(frame: np.ndarray, size: tuple[int, int], dst: np.ndarray | None = None) -> np.ndarray:
    """Resize to ``size`` (w, h) the one way training and the daemon share.

    Exact 2x area halvings while the frame is at least twice the target (OpenCV's fast
    path), then one area step: INTER_AREA in one step at a fractional factor
    (640x480 -> 128x128) is OpenCV's slow path, 1.1 ms a frame, against 0.55 ms this
    way, and ran for every frame of a camera. The result stays within half a grey level
    of it on average; a linear last step (0.16 ms) aliases thin edges, which cost the
    small test model its held-out accuracy.
    """
    w, h = size
    while frame.shape[1] >= 2 * w and frame.shape[0] >= 2 * h:
        frame = cv2.resize(frame, (frame.shape[1] // 2, frame.shape[0] // 2), interpolation=cv2.INTER_AREA)
    return cv2.resize(frame, size, dst=dst, interpolation=cv2.INTER_AREA)


def capture_file(path: str | Path) -> cv2.VideoCapture:
    """A file through FFmpeg with one decoding thread: cheaper per frame than FFmpeg's own pool
    (0.98 against 1.84 ms of CPU for a 640x480 frame), and the other cores belong to inference."""
    return cv2.VideoCapture(str(path), cv2.CAP_FFMPEG, [cv2.CAP_PROP_N_THREADS, 1])


def stated_fps(cap: cv2.VideoCapture, fallback: float) -> float:
    """The frame rate a source states, where it is believable (containers and streams may say 0 or 90000)."""
    fps = cap.get(cv2.CAP_PROP_FPS)
    return fps if 1.0 <= fps <= 240.0 else fallback


def open_video(path: Path) -> tuple[cv2.VideoCapture, VideoInfo]:
    """Open a video file and check that it decodes at least its first frame."""
    path = Path(path)
    if not path.exists():
        raise UserError(f"video not found: {path}")
    if path.is_dir():
        raise UserError(f"expected a video file, got a directory: {path}")
    cap = capture_file(path)
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
        cap = capture_file(path)
    cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
    info = VideoInfo(
        path=path,
        fps=stated_fps(cap, 30.0),
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
                    frame = downscale(frame, size)
                yield i, frame
            elif not cap.grab():
                return
            i += 1
    finally:
        cap.release()


HOLD_NOISE = 2.0  # grey levels: a held frame is a camera's still picture, not a frozen one (its noise moves the landmarks)


def write_still(writer: cv2.VideoWriter, frame: np.ndarray, n: int, seed: int = 0) -> int:
    """``frame`` ``n`` times, each with a camera's noise (``HOLD_NOISE``): a person holding still, not a frozen picture,
    so the landmarks jitter as a camera's would. Returns ``n``."""
    rng = np.random.default_rng(seed)
    for _ in range(n):
        writer.write(np.clip(frame + rng.normal(0.0, HOLD_NOISE, frame.shape), 0, 255).astype(np.uint8))
    return n


def still_video(clip: Path, out: Path, seconds: float, fps: float = 30.0) -> Path:
    """The clip's first frame held for ``seconds``, with a camera's noise: a person in view, still (between sets)."""
    cap = capture_file(clip)
    ok, frame = cap.read()
    cap.release()
    if not ok:
        raise UserError(f"cannot decode video {clip}: no frame could be read")
    writer = cv2.VideoWriter(str(out), cv2.VideoWriter.fourcc(*"mp4v"), fps, (frame.shape[1], frame.shape[0]))
    write_still(writer, frame, round(seconds * fps))
    writer.release()
    return out


def join_videos(clips: list[tuple[Path, float]], out: Path, size: tuple[int, int] | None = None, fps: float | None = None,
                speed: float = 1.0, hold_s: float = 0.0) -> list[int]:
    """The clips back to back in one video (a longer workout, a circuit); each is given with its own frame rate.
    With ``size`` and ``fps`` each clip is letterboxed to the size and resampled to the rate on its own clock (clips
    of other cameras; ffmpeg's ``scale=W:H:force_original_aspect_ratio=decrease,pad=W:H:(ow-iw)/2:(oh-ih)/2,fps=N``
    then ``concat``); ``speed`` 2 plays each twice as fast; ``hold_s`` holds each clip's last frame that long before
    the next, with a camera's noise on it (the person holding still between sets). Returns the frames written of
    each clip, its hold included."""
    from .letterbox import fit

    def boxed(frame: np.ndarray, w: int, h: int) -> np.ndarray:
        scale = min(w / frame.shape[1], h / frame.shape[0])
        fw, fh = max(1, round(frame.shape[1] * scale)), max(1, round(frame.shape[0] * scale))
        canvas = np.zeros((h, w, 3), np.uint8)
        x, y = (w - fw) // 2, (h - fh) // 2
        canvas[y:y + fh, x:x + fw] = fit(frame, (fw, fh))
        return canvas

    writer = None
    frames: list[int] = []
    rate = fps or clips[0][1]  # the video's: each clip is resampled to it
    for k, (path, own) in enumerate(clips):
        frames.append(0)
        last: np.ndarray | None = None
        cap = capture_file(path)
        i, due = 0, 0.0  # the clip's frames read; the next output frame's time on the clip's clock
        while True:
            ok, frame = cap.read()
            if not ok:
                break
            if size:
                frame = boxed(frame, *size)
            if writer is None:
                shape = size or (frame.shape[1], frame.shape[0])
                writer = cv2.VideoWriter(str(out), cv2.VideoWriter.fourcc(*"mp4v"), rate, shape)
            t = i / own
            i += 1
            while due <= t + 1e-9:  # as many output frames as fall on this one (none where the rate is lower)
                writer.write(frame)
                frames[-1] += 1
                due += speed / rate
            last = frame
        cap.release()
        if hold_s > 0 and writer is not None and last is not None and k < len(clips) - 1:
            frames[-1] += write_still(writer, last, round(hold_s * rate), seed=k)
    if writer is None:
        raise UserError("no frames to join: none of the clips could be read")
    writer.release()
    return frames
