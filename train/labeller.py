"""``homegym label``: an interactive labeller in an OpenCV window.

Keys: ``u`` up, ``d`` down, ``n`` neither, ``x`` clear — each labels the current frame
and steps on, so holding a key paints a run; after ``m`` (mark) they label the
whole range from the mark to here. ``space`` plays/pauses, ``,``/``.`` step a frame,
``[``/``]`` jump a second, ``{``/``}`` jump ten, the trackbar scrubs, ``s`` saves,
``q`` saves and quits, ``Esc`` quits without saving. The session logic is a plain
class so it is tested without a screen.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from homegym.core import labelfile
from homegym.core.errors import UserError
from homegym.core.video import open_video

COLOURS = {"up": (80, 200, 80), "down": (60, 60, 230), "neither": (180, 180, 180)}


@dataclass
class Session:
    """Per-frame labels being edited, the cursor, the mark; keys in, state out."""

    n_frames: int
    fps: float
    exercise: str | None = None  # None: three-class up/down/neither
    labels: list[str | None] = field(default_factory=list)
    pos: int = 0
    mark: int | None = None
    playing: bool = False
    dirty: bool = False

    def __post_init__(self) -> None:
        if not self.labels:
            self.labels = [None] * self.n_frames

    def name(self, phase: str) -> str:
        return phase if phase == "neither" or self.exercise is None else f"{self.exercise}_{phase}"

    def seek(self, i: int) -> None:
        self.pos = min(max(i, 0), self.n_frames - 1)

    def apply(self, label: str | None) -> None:
        lo, hi = (min(self.mark, self.pos), max(self.mark, self.pos)) if self.mark is not None else (self.pos, self.pos)
        for f in range(lo, hi + 1):
            self.labels[f] = label
        self.dirty = True
        if self.mark is None:
            self.seek(self.pos + 1)
        self.mark = None

    def key(self, ch: str) -> str | None:
        """Handle one key; returns "save", "quit" or "abort" when the caller must act."""
        step = {",": -1, ".": 1, "[": -round(self.fps), "]": round(self.fps), "{": -10 * round(self.fps), "}": 10 * round(self.fps)}
        if ch in step:
            self.playing = False
            self.seek(self.pos + step[ch])
        elif ch in ("u", "d", "n"):
            self.apply(self.name({"u": "up", "d": "down", "n": "neither"}[ch]))
        elif ch == "x":
            self.apply(None)
        elif ch == "m":
            self.mark = self.pos
        elif ch == " ":
            self.playing = not self.playing
        elif ch == "s":
            return "save"
        elif ch == "q":
            return "quit"
        elif ch == "\x1b":
            return "abort"
        return None

    def tick(self) -> None:
        if self.playing:
            if self.pos >= self.n_frames - 1:
                self.playing = False
            else:
                self.pos += 1


class _Frames:
    """Random access to a video's frames with a small cache; sequential reads stay cheap."""

    def __init__(self, path: Path, width: int = 800) -> None:
        self.cap, self.info = open_video(path)
        self.next = 0
        self.cache: OrderedDict[int, np.ndarray] = OrderedDict()
        self.scale = min(1.0, width / max(self.info.width, 1))

    def get(self, i: int) -> np.ndarray:
        if i in self.cache:
            return self.cache[i]
        if i != self.next:
            self.cap.set(cv2.CAP_PROP_POS_FRAMES, i)
        ok, frame = self.cap.read()
        self.next = i + 1
        if not ok:
            frame = np.zeros((self.info.height, self.info.width, 3), np.uint8)
        if self.scale < 1:
            frame = cv2.resize(frame, None, fx=self.scale, fy=self.scale, interpolation=cv2.INTER_AREA)
        self.cache[i] = frame
        if len(self.cache) > 120:
            self.cache.popitem(last=False)
        return frame


def render(s: Session, frame: np.ndarray) -> np.ndarray:
    """The frame with the current label, the mark and a timeline of all labels underneath."""
    h, w = frame.shape[:2]
    bar = np.full((40, w, 3), 30, np.uint8)
    xs = (np.arange(s.n_frames) * w // max(s.n_frames, 1)).astype(int)
    for f, lab in enumerate(s.labels):
        if lab is not None:
            cv2.line(bar, (xs[f], 4), (xs[f], 26), COLOURS[lab.rsplit("_", 1)[-1]], 1)
    cx = s.pos * w // max(s.n_frames, 1)
    cv2.line(bar, (cx, 0), (cx, 39), (255, 255, 255), 1)
    if s.mark is not None:
        mx = s.mark * w // max(s.n_frames, 1)
        cv2.line(bar, (mx, 0), (mx, 39), (0, 220, 255), 1)
    img = np.vstack([frame, bar])
    text = f"{s.pos}/{s.n_frames - 1}  {s.labels[s.pos] or '-'}" + ("  [mark]" if s.mark is not None else "") + ("  *" if s.dirty else "")
    cv2.putText(img, text, (8, 24), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (0, 0, 0), 3, cv2.LINE_AA)
    cv2.putText(img, text, (8, 24), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (255, 255, 255), 1, cv2.LINE_AA)
    return img


def _has_gui() -> bool:
    info = cv2.getBuildInformation()
    gui = info.split("GUI:", 1)[1].splitlines()[0].strip() if "GUI:" in info else "NONE"
    return gui not in ("NONE", "")


def label_video(video: Path, out: Path | None, exercise: str | None) -> Path:
    if not _has_gui():
        raise UserError("the labeller needs OpenCV with a GUI: pip install opencv-python (it replaces opencv-python-headless)")
    frames = _Frames(video)
    out = out or labelfile.labels_path_for(video)
    s = Session(frames.info.frames, frames.info.fps, exercise)
    if out.exists():
        existing = labelfile.read(out)
        for seg in existing.segments:
            for f in range(seg.start, min(seg.end, s.n_frames - 1) + 1):
                s.labels[f] = seg.label
    win = f"homegym label - {video.name}"
    cv2.namedWindow(win, cv2.WINDOW_NORMAL)
    cv2.createTrackbar("frame", win, 0, max(s.n_frames - 1, 1), lambda v: s.seek(v))

    def save() -> None:
        labelfile.write(out, labelfile.LabelFile(labelfile.segments_from_frames(s.labels), video=video))
        s.dirty = False

    try:
        while True:
            cv2.imshow(win, render(s, frames.get(s.pos)))
            cv2.setTrackbarPos("frame", win, s.pos)
            k = cv2.waitKey(max(1, int(1000 / s.fps)) if s.playing else 30)
            action: str | None
            if cv2.getWindowProperty(win, cv2.WND_PROP_VISIBLE) < 1:
                action = "quit"
            else:
                action = s.key(chr(k & 0xFF)) if k >= 0 else None
            if action in ("save", "quit"):
                save()
            if action in ("quit", "abort"):
                break
            s.tick()
    finally:
        cv2.destroyAllWindows()
    return out
