"""The keypoint classifier: the pose stage's landmarks -> features (the causal window) -> class probabilities.

It is a ``Classifier`` like the image classifier and hands back the same ``Result``s, so neither
the pipeline nor the chain (voting, counting) knows which kind runs. The features
are ``core.keypoint_features``, the very function training used, fed one frame at a time; the
IR says which version it was trained on. The model is a small MLP: one synchronous request a
frame on one thread, a few microseconds, no batching to wait for.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import openvino as ov

from homegym.core.keypoint_features import FeatureStream, gate
from homegym.core.letterbox import Letterbox
from homegym.core.model_info import KEYPOINTS, KeypointModelInfo
from homegym.core.runtime import compile_model, make_core

from ..frames.ring import Batch
from ..pose.stage import Pose
from .image import Result

log = logging.getLogger(__name__)


class KeypointClassifier:
    """Landmarks in: the pose stage's, one frame at a time; the ring keeps only the stage's canvas."""

    kind = KEYPOINTS
    feature_dim: int | None = None  # no pooled image features: the periodicity fuses an image classifier's
    batch: int = 1

    def __init__(self, model, info: KeypointModelInfo, path: Path, device: str = "CPU", cache_dir: Path | None = None,
                 cpu_precision: str = "f32") -> None:
        """No picture size of its own: it reads the pose stage's output, on the canvas pose.frame_size says."""
        self.info = info
        t = time.perf_counter()
        self.compiled = compile_model(make_core(cache_dir), model, device, "LATENCY", cpu_threads=1, cpu_precision=cpu_precision)
        self._request = self.compiled.create_infer_request()
        self._x = np.zeros((1, info.width), np.float32)  # the features go straight into the request's input tensor
        self._request.set_input_tensor(ov.Tensor(self._x, shared_memory=True))
        log.info("keypoint classifier %s (%s, %s, %d features) compiled on %s in %.2f s", path, ", ".join(info.labels),
                 info.precision, info.width, device, time.perf_counter() - t)
        self.stream = FeatureStream(info.features)
        self.keep_frames = False
        self._done: list[Result] = []

    @property
    def labels(self) -> tuple[str, ...]:
        return self.info.labels

    @property
    def uses_pose(self) -> bool:
        return True

    def picture(self, canvas: Letterbox) -> Letterbox:
        return canvas

    def takes(self) -> tuple:
        return (self.kind,)  # the pose stage's canvas, whatever its weights

    def reset(self) -> None:
        """A new source: the window starts empty."""
        self.stream.reset()

    def features(self, pose: Pose, t: float) -> np.ndarray:
        lm = pose.landmarks
        return self.stream.step(t, lm[:, :2], pose.world, lm[:, 3], pose.presence, pose.found)

    def submit(self, batch: Batch, poses: Sequence[Pose | None], times: Sequence[float]) -> None:
        """Classify each frame of ``batch`` from its pose (canvas coordinates: equal units along x and y)."""
        t0 = time.perf_counter()
        probs = np.empty((len(poses), len(self.labels)), np.float32)
        for i, (pose, t) in enumerate(zip(poses, times)):
            assert pose is not None, "uses_pose: the pipeline runs the pose stage for it"
            self._x[0] = self.features(pose, t)
            probs[i] = gate(self._request.infer(share_outputs=True).to_tuple()[0], self._x, self.labels, self.info.features)[0]
        self._done.append(Result(batch.ids, batch.times, probs, time.perf_counter() - t0, batch.frames if self.keep_frames else None))

    def results(self, wait: bool = False) -> list[Result]:
        out, self._done = self._done, []
        return out
