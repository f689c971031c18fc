"""The pipeline's side of the live page: what the page shows, handed from the pipeline's thread to the web server's.

The pipeline's thread writes the count (``on_state``), the last sets (``on_event``), the placement hints (a check
every half second of the source's time), the health (once a second, from the service) and, only while a page shows
the picture, the newest frame at ``live.preview_fps``. The web server's thread reads the newest of each under one
lock, and is woken through ``on_change`` only while a page is connected. With nobody watching, no frame is kept,
drawn or encoded and nobody is woken: a few comparisons a frame.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass

import cv2
import numpy as np

from homegym.core import exercises
from homegym.core.keypoint_features import TIME_TOLERANCE_S
from homegym.core.letterbox import Box, Letterbox

from ..config.settings import LiveConfig
from ..counting.events import SetEndEvent, SetMeasures
from ..pipeline.observer import FrameView, Observer
from ..pose.draw import draw_pose
from ..pose.stage import Pose
from .placement import Placement, brightness

LAST_SETS = 5


@dataclass(frozen=True)
class Preview:
    """A frame for the page's picture: what the stage (or the classifier) saw, the stage's result, the frame's place."""

    seq: int
    pixels: np.ndarray
    pose: Pose | None
    box: Box | None  # where the camera's frame lies on the stage's canvas (None: the whole picture)

    def jpeg(self, quality: int) -> bytes:
        """The picture with the skeleton drawn, cut to the camera's frame, as JPEG (the web server's thread calls it)."""
        img = self.pixels.copy()
        if self.pose is not None:
            draw_pose(img, self.pose, img.shape[1], img.shape[0])
        b = self.box
        if b is not None:
            img = img[b.y: b.y + b.h, b.x: b.x + b.w]
        ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, quality])
        if not ok:
            raise RuntimeError("JPEG encoding failed")
        return buf.tobytes()


class LiveView(Observer):
    def __init__(self, cfg: LiveConfig, letterbox: Callable[[], Letterbox | None], sets: list[dict] | None = None) -> None:
        self.cfg = cfg
        self._letterbox = letterbox  # the pipeline's, which a reload may replace
        self._lock = threading.Lock()
        self._pictures = 0  # pages showing the picture
        self._listeners = 0  # pages connected at all
        self.on_change: Callable[[], None] | None = None  # set by the web server: wakes its thread
        self._state: dict = {}
        self._health: dict = {}
        self._sets: deque[dict] = deque(sets or [], maxlen=LAST_SETS)
        self._history: dict | None = None
        self.delete_set: Callable[[int], Future] | None = None  # the service's: a set forgotten, the day's totals with it
        self._preview: Preview | None = None
        self._next_preview: float | None = None
        self.placement = Placement()
        self.version = 0

    # -- the web server's side ------------------------------------------------------------------------

    @property
    def wants_frames(self) -> bool:  # type: ignore[override]
        """Frames are kept for ``on_frame`` only while a page shows the picture."""
        return self._pictures > 0

    @property
    def listening(self) -> bool:
        """A page is connected: the service refreshes the health every second, else every few seconds."""
        return self._listeners > 0

    def attach(self, picture: bool) -> None:
        with self._lock:
            self._listeners += 1
            self._pictures += picture
            if picture:
                self._next_preview = None  # the first frame at once

    def detach(self, picture: bool) -> None:
        with self._lock:
            self._listeners -= 1
            self._pictures -= picture
            if not self._pictures:
                self._preview = None  # no stale picture for the next page; the frame's memory goes back

    def snapshot(self) -> dict:
        """Everything the page shows but the picture, as JSON-ready data."""
        with self._lock:
            state, sets, hist = dict(self._state), list(self._sets), self._history
            weeks = [ex for w in (hist or {}).get("weeks", []) for ex in w["by_exercise"]]
            named = [*state.get("today", {}), state.get("exercise"), *(x["exercise"] for x in sets), *weeks,
                     *(hist or {}).get("bests", {}).get("set", {})]
            return {"version": self.version, "state": state, "health": dict(self._health),
                    "placement": [h.to_dict() for h in self.placement.hints], "sets": sets, "history": hist,
                    "picture": self._preview is not None, "names": {ex: exercises.words(ex) for ex in named if ex}}

    def preview(self) -> Preview | None:
        with self._lock:
            return self._preview

    # -- the pipeline's side --------------------------------------------------------------------------

    def _changed(self) -> None:
        """Under the lock: a new version, and the server woken where a page listens."""
        self.version += 1
        if self._listeners and self.on_change is not None:
            self.on_change()

    def on_state(self, state: dict) -> None:
        with self._lock:
            self._state = state
            self._changed()

    def on_history(self, summary: dict) -> None:
        """The weeks, bests and last set (``delivery.history.summary``) for the page's history view."""
        with self._lock:
            self._history = summary
            self._changed()

    def on_sets(self, sets: list[dict]) -> None:
        """The last sets as the state store has them (with their ids, so the page can delete one)."""
        with self._lock:
            self._sets = deque(sets, maxlen=LAST_SETS)
            self._changed()

    def health(self, figures: dict) -> None:
        with self._lock:
            self._health = figures
            self._changed()

    def on_frame(self, f: FrameView) -> None:
        check = self.placement.due(f.t)
        nxt = self._next_preview
        picture = self._pictures > 0 and f.pixels is not None and (nxt is None or f.t >= nxt - TIME_TOLERANCE_S or f.t < nxt - 1.0)
        if not (check or picture):
            return
        lb = self._letterbox() if f.pose is not None else None  # the frame's place on the stage's canvas
        box = lb.box if lb is not None else None
        if check:
            luma = brightness(f.pixels, box) if f.pixels is not None else None
            self.placement.check(f.t, f.pose, box, lb.size if lb else 0, luma)
        with self._lock:
            if picture and self._pictures > 0:
                assert f.pixels is not None
                step = 1.0 / self.cfg.preview_fps  # on the cadence, unless the frames came late
                self._next_preview = nxt + step if nxt is not None and abs(f.t - nxt) < step else f.t + step
                self._preview = Preview((self._preview.seq + 1) if self._preview else 1, f.pixels, f.pose, box)
            self._changed()


def set_row(e: SetEndEvent) -> dict:
    """A finished set as the page lists it (and the state store keeps it)."""
    measures = {k: getattr(e, k) for k in SetMeasures.model_fields if k in e.model_fields_set}
    return {"exercise": e.exercise, "reps": e.reps, "duration_s": round(e.duration_s, 1), "ended": round(e.ts, 1),
            "partials": e.partials, "measures": measures or None}
