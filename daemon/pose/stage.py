"""The pose stage between the ring and the classifier: the tracking loop of MediaPipe's pose graph.

Each frame: the detector only when nobody is tracked (the largest person when starting), else
the crop placed by the last frame's landmarks; the landmark model on that crop; a presence
under ``pose.min_presence`` drops the person, so the next frame detects again and no stale
skeleton is kept; then the smoothing, and the next crop from the smoothed hips and body-radius
points. It is sequential by nature (each crop comes from the previous frame), so the models
run one frame at a time here while the capture thread decodes the next frames.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from homegym.core.errors import UserError
from homegym.core.pose_info import DETECTOR_FILE, POSE_LANDMARKS, read_pose_pair
from homegym.core.runtime import compile_model, cpu_has_bf16, make_core, pose_precision

from ..config.settings import PoseConfig
from .detect import PoseDetector
from .landmark import AUX, LandmarkModel
from .roi import Roi, roi_from_points
from .smooth import AUXILIARY, WORLD, LowPass, OneEuro, OneEuroParams, object_size

log = logging.getLogger(__name__)
DEFAULT_POSE_DIR = Path(__file__).parents[1] / "models" / "pose"
MIN_ROI = 0.02  # a crop smaller than this share of the canvas is no person


@dataclass(frozen=True)
class Pose:
    """One frame's result, canvas-normalised (``Letterbox.to_frame`` maps to the frame)."""

    found: bool
    landmarks: np.ndarray  # (33, 4): x, y, z, visibility; zeros when not found
    world: np.ndarray  # (33, 3) metres, hips' centre at 0; zeros when not found
    presence: float  # the landmark model's score (0 when the detector found nobody)
    roi: Roi | None  # the crop the landmarks came from
    detected: bool  # the detector ran on this frame

    @classmethod
    def missing(cls, presence: float = 0.0, roi: Roi | None = None, detected: bool = False) -> Pose:
        return cls(False, np.zeros((POSE_LANDMARKS, 4), np.float32), np.zeros((POSE_LANDMARKS, 3), np.float32), presence, roi,
                   detected)


class PoseTracker:
    def __init__(self, detector: PoseDetector, landmarks: LandmarkModel, cfg: PoseConfig, roi_scale: float = 1.25,
                 idle_interval_s: float = 0.0, idle_after_s: float = 0.0) -> None:
        self.detector = detector
        self.landmarks = landmarks
        self.cfg = cfg
        self.roi_scale = roi_scale
        self.idle_interval_s = idle_interval_s  # while nobody is tracked, the detector's least interval (live sources)
        self.idle_after_s = idle_after_s  # ... once nobody was found for this long: a person lost mid-set is sought every frame
        self._last_detect_t: float | None = None
        self._last_found_t: float | None = None
        self._roi: Roi | None = None  # where the person is expected in the next frame
        self._points = OneEuro(OneEuroParams(cfg.min_cutoff, cfg.beta))
        self._aux = OneEuro(AUXILIARY)
        self._world = OneEuro(WORLD)
        self._vis = LowPass(cfg.visibility_alpha)
        self.detections = 0  # frames the detector ran on

    @property
    def tracking(self) -> bool:
        return self._roi is not None

    def _idle(self, t: float) -> bool:
        """Nobody was found for ``idle_after_s``: the room is empty, not a person lost for a frame or two."""
        return self._last_found_t is None or not 0 <= t - self._last_found_t < self.idle_after_s

    def reset(self, new_source: bool = True) -> None:
        """Forget the person (a new source, or they were lost: then the time they were last seen stays)."""
        self._roi = None
        self._last_detect_t = None
        if new_source:
            self._last_found_t = None
        for f in (self._points, self._aux, self._world, self._vis):
            f.reset()

    def step(self, canvas: np.ndarray, t: float) -> Pose:
        detected = self._roi is None
        roi = self._roi
        if roi is None:
            if self._idle(t) and self._last_detect_t is not None and 0 <= t - self._last_detect_t < self.idle_interval_s:
                return Pose.missing()  # nobody in view for a while: an empty room need not cost the detector every frame
            self._last_detect_t = t
            self.detections += 1
            found = self.detector.detect(canvas)
            if not found:
                return Pose.missing(detected=True)
            roi = max(found, key=lambda d: d.area).roi(self.roi_scale)  # the largest person when starting
        if roi.size < MIN_ROI:
            self.reset(new_source=False)
            return Pose.missing(roi=roi, detected=detected)
        lm = self.landmarks.run(canvas, roi)
        if lm.presence < self.cfg.min_presence:
            self.reset(new_source=False)
            return Pose.missing(lm.presence, roi, detected)
        side = canvas.shape[0]
        px = lm.points * side  # MediaPipe filters in pixels
        body, aux = px[:POSE_LANDMARKS], px[list(AUX)]
        vis, world = lm.visibility[:POSE_LANDMARKS], lm.world[:POSE_LANDMARKS]
        if self.cfg.smoothing:
            body = self._points(body, t, object_size(body))
            aux = self._aux(aux, t, object_size(aux))
            world = self._world(world, t)
            vis = self._vis(vis)
        self._roi = roi_from_points(aux[0, :2] / side, aux[1, :2] / side, self.roi_scale)
        self._last_found_t = t
        out = np.concatenate([body / side, vis[:, None]], 1).astype(np.float32)
        return Pose(True, out, np.asarray(world, np.float32), lm.presence, roi, detected)


def resolve_pose_dir(path: str | None) -> Path:
    base = DEFAULT_POSE_DIR if path is None else Path(path).expanduser()
    if path is None and not (base / DETECTOR_FILE).exists():
        raise UserError("no pose models are shipped in this install: set pose.path to a folder written by 'homegym convert'")
    return base


def open_pose(cfg: PoseConfig, live: bool, cache_dir: Path | None = None) -> PoseTracker:
    """Both pose IRs, compiled: one thread each for a live source (a frame at a time, no cores fighting), else every core."""
    folder = resolve_pose_dir(cfg.path)
    core = make_core(cache_dir)
    threads = cfg.threads or (1 if live else None)
    cpu_precision = pose_precision(cfg.precision, cpu_has_bf16(core), cfg.model)
    (det_model, det_info), (lm_model, lm_info) = read_pose_pair(folder, cfg.model)
    det = compile_model(core, det_model, cfg.device, "LATENCY", cpu_threads=threads, cpu_precision=cpu_precision)
    lmk = compile_model(core, lm_model, cfg.device, "LATENCY", cpu_threads=threads, cpu_precision=cpu_precision)
    log.info("pose models %s (%s) compiled on %s, %s%s", folder, lm_info.version.split(" sha256")[0], cfg.device,
             f"{threads} thread(s)" if threads else "every core", f", {cpu_precision}" if cfg.device.startswith("CPU") else "")
    return PoseTracker(PoseDetector(det, det_info.anchors, det_info.decoding, cfg.min_detection_score),
                       LandmarkModel(lmk, lm_info.input_size, lm_info.version), cfg, det_info.decoding.roi_scale,
                       1.0 / cfg.idle_detect_fps if live else 0.0, cfg.idle_after_s)
