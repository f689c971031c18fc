"""The pose stage's landmark model on one crop: MediaPipe's ``pose_landmark_by_roi`` graph.

The crop is warped out of the canvas to 256 x 256, the model finds 39 landmarks, of which BlazePose's 33
and the two that place the next crop are read (the other four never are), each refined on the model's
heatmap, and projected back to the canvas; the world landmarks (metres, centred on the hips)
are turned by the crop's rotation. Presence is the model's own score that a person is in the crop.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from .roi import Roi, crop_to_canvas, warp

NUM = 35  # of the 39 landmarks the model outputs, those read: BlazePose's 33 and the two of AUX
AUX = (33, 34)  # hips' centre and body-radius point: where the next frame's crop goes
HEATMAP_KERNEL = 7  # MediaPipe's RefineLandmarksFromHeatmap options
HEATMAP_MIN_CONFIDENCE = 0.5


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -80.0, 80.0)))


@dataclass(frozen=True)
class Landmarks:
    points: np.ndarray  # (NUM, 3) x, y (canvas-normalised), z (same scale as x, hips at 0)
    visibility: np.ndarray  # (NUM,) 0..1
    world: np.ndarray  # (NUM, 3) metres, hips' centre at 0
    presence: float  # the model's score that a person is in the crop


def refine(points: np.ndarray, heatmap: np.ndarray) -> np.ndarray:
    """Each landmark moved to the confidence-weighted centre of its heatmap around it (MediaPipe's kernel 7),
    all landmarks at once: the cells of each window that fall off the heatmap weigh nothing."""
    hm_h, hm_w, n = heatmap.shape
    half = HEATMAP_KERNEL // 2
    m = points.shape[0]
    col, row = (points[:, 0] * hm_w).astype(np.int64), (points[:, 1] * hm_h).astype(np.int64)
    inside = (col >= 0) & (col < hm_w) & (row >= 0) & (row < hm_h)
    offs = np.arange(-half, half + 1)
    rows, cols = row[:, None] + offs, col[:, None] + offs  # (m, k)
    valid = ((rows >= 0) & (rows < hm_h))[:, :, None] & ((cols >= 0) & (cols < hm_w))[:, None, :]  # (m, k, k)
    raw = heatmap[np.clip(rows, 0, hm_h - 1)[:, :, None], np.clip(cols, 0, hm_w - 1)[:, None, :], np.arange(m)[:, None, None]]
    conf = np.where(valid, sigmoid(raw), 0.0)
    total = conf.sum((1, 2))
    ok = inside & (conf.max((1, 2)) >= HEATMAP_MIN_CONFIDENCE) & (total > 0)
    out = points.copy()
    safe = np.where(total > 0, total, 1.0)
    out[ok, 0] = ((conf * cols[:, None, :]).sum((1, 2)) / hm_w / safe)[ok]
    out[ok, 1] = ((conf * rows[:, :, None]).sum((1, 2)) / hm_h / safe)[ok]
    return out


class LandmarkModel:
    """The compiled landmark IR; ``run`` takes the whole canvas and the crop.

    The crop is warped straight into the request's input tensor and the outputs are read in place (the
    heatmap alone is 640 KB a frame): copying either way cost 0.4 ms a frame, an eighth of the lite model."""

    def __init__(self, compiled, input_size: int, version: str = "") -> None:
        import openvino as ov

        self.request = compiled.create_infer_request()
        self.size = input_size
        self.version = version  # what the IR was converted from (runtime info)
        self.infer_cpu_s = 0.0  # this thread's CPU time inside the model (the bench splits the stage's time by it)
        self._crop = np.zeros((1, input_size, input_size, 3), np.uint8)
        self.request.set_input_tensor(ov.Tensor(self._crop, shared_memory=True))

    def run(self, canvas: np.ndarray, roi: Roi) -> Landmarks:
        warp(canvas, roi, self.size, self._crop[0])
        t = time.thread_time()
        res = self.request.infer(share_outputs=True)  # views of the request's outputs, read before the next frame
        self.infer_cpu_s += time.thread_time() - t
        raw, flag, heatmap, world = res.to_tuple()  # in the outputs' order; indexing an OVDict costs a dispatch each
        raw = raw.reshape(-1, 5)[:NUM]
        uv = refine(raw[:, :2] / self.size, heatmap[0])
        xy = crop_to_canvas(roi, uv)
        z = raw[:, 2:3] / self.size * roi.size
        c, s = math.cos(roi.rotation), math.sin(roi.rotation)
        w = world.reshape(-1, 3)[:NUM]
        world_rot = np.stack([c * w[:, 0] - s * w[:, 1], s * w[:, 0] + c * w[:, 1], w[:, 2]], 1)
        return Landmarks(np.concatenate([xy, z], 1).astype(np.float32), sigmoid(raw[:, 3]).astype(np.float32),
                         world_rot.astype(np.float32), float(np.asarray(flag).reshape(-1)[0]))
