"""The capture thread: read, frame for the model (whole, or the motion crop) at the working size, stamp (frame id, time), write to the ring.

A file ends the run cleanly and waits for the ring (back-pressure: a file never loses a
frame, under ``homegym count`` or ``homegym run`` alike); read in real time
(``source.realtime``) it drops like a camera. A live source that fails or stalls is
reopened with capped exponential backoff, and every reconnect is counted.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Protocol

import cv2
import numpy as np

from homegym.core.errors import UserError
from homegym.core.video import stated_fps

from ..config.settings import SourceConfig
from .ring import FrameRing
from .source import SourceKind, classify, open_capture

log = logging.getLogger(__name__)


@dataclass
class CaptureStats:
    frames: int = 0
    reconnects: int = 0
    connected: bool = False
    state: str = "connecting"  # connecting, connected, reconnecting, ended
    last_frame_t: float = 0.0
    fps: float = 0.0  # the source's nominal rate
    declared: int = 0  # a file's frame count as its container states it (0: unknown, or a live source)
    failed_opens: int = 0  # attempts to open a live source that found nothing (yet)
    retry_in_s: float = 0.0  # the wait before the next attempt
    error: str | None = None


def stride_for(fps: float, infer_fps: float | None) -> int:
    """Every how many frames of a ``fps`` source one is inferred (``pipeline.infer_fps``; None: every one)."""
    return max(1, round(fps / infer_fps)) if infer_fps and fps > 0 else 1


class Picture(Protocol):
    """A frame as the ring keeps it (``core.framing.Framer``: the classifier's framing; ``core.letterbox.Letterbox``:
    the pose stage's canvas), written into ``dst``."""

    @property
    def wh(self) -> tuple[int, int]: ...

    def __call__(self, frame: np.ndarray, t: float, dst: np.ndarray | None = None) -> np.ndarray: ...

    def reset(self) -> None: ...


class Capture(threading.Thread):
    def __init__(self, cfg: SourceConfig, ring: FrameRing, picture: Picture, aux: Picture | None = None,
                 first_id: int = 0, infer_fps: float | None = None) -> None:
        """``picture``: the classifier's picture of each frame; ``aux``: a second one the ring keeps beside it (the pose
        stage's canvas, where the stage runs for another reason than the classifier)."""
        super().__init__(name="capture", daemon=True)
        self.cfg = cfg
        self.src: SourceKind = classify(cfg.uri)
        self.ring = ring
        self.framer = picture
        self.aux = aux
        self.waits = not self.src.live and not cfg.realtime  # a file as fast as it can be read: back-pressure
        self.stats = CaptureStats()
        self.first_id = first_id  # frame ids go on across a restart of this stage
        self.infer_fps = infer_fps
        self.stride = 1  # every stride-th frame goes to the ring: see _set_stride
        self.rest_fps: float | None = None  # the pipeline's quiet rest: this rate, where it is lower, while set
        self._halt = threading.Event()
        self._cap: cv2.VideoCapture | None = None

    def start(self) -> None:
        """Open a file here, in the caller's thread (a missing or undecodable one is the user's error, raised to the
        caller), then read on in the capture thread; a live source is opened there, with retries."""
        if not self.src.live:
            cfg = self.cfg
            self._cap = cap = open_capture(self.src, cfg.width, cfg.height, cfg.fps, cfg.stall_timeout_s)
            if cap is None:
                raise UserError(f"cannot open {self.src.target}")
            self.stats.fps = stated_fps(cap, 30.0)
            self.stats.declared = max(0, int(cap.get(cv2.CAP_PROP_FRAME_COUNT)))
            self.stats.connected = True
            self.stats.state = "connected"
            self._set_stride()
        super().start()

    def _set_stride(self) -> None:
        """Pass on every stride-th frame, so inference runs at about ``infer_fps``: a rep lasts half a
        second or more, and 15 frames a second see it as well as 30 at half the CPU. Ids and times stay
        the source's own. A skipped frame is grabbed, never converted to pixels or downscaled."""
        self.stride = stride_for(self.stats.fps, self.infer_fps)
        if self.stride > 1:
            log.info("inferring every %d. frame of %.1f fps (pipeline.infer_fps: %g)", self.stride, self.stats.fps, self.infer_fps)

    def stop(self) -> None:
        self._halt.set()

    def _connect(self) -> bool:
        delay = self.cfg.reconnect_initial_s
        while not self._halt.is_set():
            cap = open_capture(self.src, self.cfg.width, self.cfg.height, self.cfg.fps, self.cfg.stall_timeout_s)
            if cap is not None:
                self._cap = cap
                self.framer.reset()  # another connection may frame the room anew
                self.stats.fps = stated_fps(cap, self.cfg.fps)
                self.stats.connected = True
                self.stats.state = "connected"
                self._set_stride()
                log.info("source %s connected (%dx%d at %.1f fps; %d reconnects so far)", self.src.target,
                         cap.get(cv2.CAP_PROP_FRAME_WIDTH), cap.get(cv2.CAP_PROP_FRAME_HEIGHT), self.stats.fps,
                         self.stats.reconnects)
                return True
            self.stats.failed_opens += 1
            self.stats.retry_in_s = delay
            log.warning("source %s unavailable; retrying in %.1f s", self.src.target, delay)
            self._halt.wait(delay)
            delay = min(delay * 2, self.cfg.reconnect_max_s)
        return False

    def run(self) -> None:
        frame_id = self.first_id
        start = time.monotonic()
        try:
            while not self._halt.is_set():
                if self._cap is None and not self._connect():
                    break
                cap = self._cap
                assert cap is not None  # _connect() opened it
                rest = self.rest_fps
                stride = max(self.stride, stride_for(self.stats.fps, rest)) if rest else self.stride
                skip = (frame_id - self.first_id) % stride != 0
                ok, frame = (cap.grab(), None) if skip else cap.read()
                now = time.monotonic()
                if not ok:
                    if not self.src.live:
                        break  # end of file
                    self._lost(f"no frame from {self.src.target}")
                    continue
                if self.src.live and self.stats.last_frame_t and now - self.stats.last_frame_t > self.cfg.stall_timeout_s:
                    log.warning("source %s stalled for %.1f s", self.src.target, now - self.stats.last_frame_t)
                if frame is not None:
                    if self.waits:
                        while not self.ring.wait_for_space(0.2):
                            if self._halt.is_set():
                                return
                    # a file's own clock, as training framed it; a camera's is the wall clock
                    t = now if self.src.live else (frame_id - self.first_id) / self.stats.fps
                    self.framer(frame, t, dst=self.ring.slot_for_write())
                    if self.aux is not None:
                        self.aux(frame, t, dst=self.ring.aux_slot_for_write())
                    self.ring.commit(frame_id, now)
                frame_id += 1
                self.stats.frames += 1
                self.stats.last_frame_t = now
                if self.cfg.realtime and not self.src.live:
                    due = start + (frame_id - self.first_id) / self.stats.fps
                    self._halt.wait(max(0.0, due - time.monotonic()))
        except Exception as e:  # the pipeline must hear about it, not a dead thread in silence
            self.stats.error = f"{type(e).__name__}: {e}"
            log.error("capture failed: %s", self.stats.error)
        finally:
            if self._cap is not None:
                self._cap.release()
            self.stats.connected = False
            self.stats.state = "ended"
            self.ring.close()

    def _lost(self, why: str) -> None:
        log.warning("%s; reconnecting", why)
        if self._cap is not None:
            self._cap.release()
        self._cap = None
        self.stats.connected = False
        self.stats.state = "reconnecting"
        self.stats.reconnects += 1
