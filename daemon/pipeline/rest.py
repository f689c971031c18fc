"""The quiet rest: between sets, with the person in view and still, infer a few frames a second.

Stillness is every visible joint staying within ``rest.still`` torso lengths of where it was when the
stillness began, for ``rest.after_s``: an anchor, not a frame-to-frame speed, so the landmarks' own
jitter at 15 frames a second does not read as movement, and the same rule holds at any rate. While
resting, a frame is inferred once every 1/``rest.fps`` s; the first one that strays wakes it, and
every frame is inferred again from the next. Decided on the frames' own times, so a file counted
live on the media clock (``eval --live media``) rests on the same frames on every machine.
"""

from __future__ import annotations

import logging

import numpy as np

from homegym.core.keypoint_features import BODY, L_HIP, L_SH, R_HIP, R_SH

from ..config.settings import RestConfig

log = logging.getLogger(__name__)
VISIBLE = 0.5  # a joint under this visibility is not watched: an occluded joint's landmark wanders
MIN_TORSO = 1e-3  # canvas units: no torso, no measure
SLACK_S = 0.025  # a frame this much short of the rest interval after the last is due: a live source's times jitter


class QuietRest:
    def __init__(self, cfg: RestConfig) -> None:
        self.cfg = cfg
        self.resting = False
        self._anchor: np.ndarray | None = None  # the watched joints when the stillness began
        self._since = 0.0  # ... and when
        self._last_t = -np.inf  # the last inferred frame's time

    def reset(self) -> None:
        self.resting = False
        self._anchor = None
        self._last_t = -np.inf

    def due(self, t: float) -> bool:
        """Whether the frame at ``t`` is inferred: every one, except while resting one each 1/rest.fps s."""
        return not self.resting or t - self._last_t >= 1.0 / self.cfg.fps - SLACK_S

    def observe(self, landmarks: np.ndarray | None, t: float) -> None:
        """An inferred frame's landmarks (None: nobody found, so no rest: the detector's own idle rate rules then)."""
        self._last_t = t
        if landmarks is None:
            self._wake(t, "nobody found")
            return
        pts = landmarks[BODY, :2]
        seen = landmarks[BODY, 3] >= VISIBLE
        torso = float(np.linalg.norm(landmarks[[L_SH, R_SH], :2].mean(0) - landmarks[[L_HIP, R_HIP], :2].mean(0)))
        if not seen.any() or torso < MIN_TORSO:
            self._wake(t, "no joint to watch")
            return
        if self._anchor is None:
            self._anchor, self._since = pts.copy(), t
            return
        strayed = float(np.max(np.linalg.norm(pts[seen] - self._anchor[seen], axis=1))) / torso
        if strayed > self.cfg.still:
            self._wake(t, f"moved {strayed:.2f} torso lengths")
            self._anchor, self._since = pts.copy(), t
        elif not self.resting and t - self._since >= self.cfg.after_s:
            self.resting = True
            log.debug("%.2f s: still for %.1f s: resting at %g fps", t, t - self._since, self.cfg.fps)

    def _wake(self, t: float, why: str) -> None:
        if self.resting:
            log.debug("%.2f s: awake (%s)", t, why)
        self.resting = False
        self._anchor = None
