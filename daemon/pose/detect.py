"""The pose stage's person detector: BlazePose's SSD on the canvas resized to 224 x 224, as MediaPipe's
``pose_detection_cpu`` graph decodes it (anchors, box and keypoint decoding, score threshold,
weighted non-max suppression), and the first crop around the person from its keypoints.

It runs only when nobody is tracked; the tracking loop (``stage.PoseTracker``) follows the person from then on.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import cv2
import numpy as np

from homegym.core.pose_info import Anchors, Decoding

from .landmark import sigmoid
from .roi import Roi, roi_from_points


@dataclass(frozen=True)
class Detection:
    score: float
    box: np.ndarray  # (xmin, ymin, xmax, ymax), canvas-normalised
    keypoints: np.ndarray  # (4, 2): hips' centre, body-radius point, shoulders' centre, head

    @property
    def area(self) -> float:
        return float(max(0.0, self.box[2] - self.box[0]) * max(0.0, self.box[3] - self.box[1]))

    def roi(self, scale: float) -> Roi:
        """MediaPipe's pose_detection_to_roi: centred on the hips, as big as the body's circle, upright."""
        return roi_from_points(self.keypoints[0], self.keypoints[1], scale)


def make_anchors(a: Anchors) -> np.ndarray:
    """(n, 2) anchor centres of MediaPipe's SsdAnchorsCalculator (fixed size: width and height are 1)."""
    if not a.fixed_size:
        raise ValueError("only fixed-size anchors (BlazePose's) are supported")
    out = []
    layer = 0
    while layer < a.num_layers:
        per_cell = 0
        last = layer
        while last < a.num_layers and a.strides[last] == a.strides[layer]:
            per_cell += 2  # aspect ratio 1.0 and the interpolated scale between this layer's and the next
            last += 1
        n = math.ceil(a.input_size / a.strides[layer])
        ys, xs = np.meshgrid((np.arange(n) + a.offset) / n, (np.arange(n) + a.offset) / n, indexing="ij")
        centres = np.stack([xs.ravel(), ys.ravel()], 1)
        out.append(np.repeat(centres, per_cell, axis=0))
        layer = last
    return np.concatenate(out).astype(np.float32)


def decode(raw_boxes: np.ndarray, raw_scores: np.ndarray, anchors: np.ndarray, d: Decoding) -> list[Detection]:
    """Boxes and keypoints over the score threshold, canvas-normalised, best first (before suppression)."""
    scores = sigmoid(np.clip(raw_scores.reshape(-1), -d.score_clip, d.score_clip))
    keep = np.flatnonzero(scores >= d.min_score)
    if keep.size == 0:
        return []
    raw = raw_boxes.reshape(-1, d.num_coords)[keep] / d.scale
    anc = anchors[keep]
    cx, cy = raw[:, 0] + anc[:, 0], raw[:, 1] + anc[:, 1]
    w, h = raw[:, 2], raw[:, 3]
    boxes = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], 1)
    kps = raw[:, 4: 4 + 2 * d.num_keypoints].reshape(-1, d.num_keypoints, 2) + anc[:, None, :]
    order = np.argsort(-scores[keep], kind="stable")
    return [Detection(float(scores[keep][i]), boxes[i], kps[i]) for i in order]


def _iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    x0, y0 = np.maximum(box[0], boxes[:, 0]), np.maximum(box[1], boxes[:, 1])
    x1, y1 = np.minimum(box[2], boxes[:, 2]), np.minimum(box[3], boxes[:, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    area = lambda b: (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])  # noqa: E731
    union = area(box) + area(boxes) - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)


def weighted_nms(dets: list[Detection], iou: float) -> list[Detection]:
    """MediaPipe's WEIGHTED suppression: each cluster of overlapping boxes becomes their score-weighted
    mean (box and keypoints), with the best one's score."""
    out = []
    remaining = list(dets)  # best first
    while remaining:
        top = remaining[0]
        boxes = np.stack([r.box for r in remaining])
        near = _iou(top.box, boxes) > iou
        cluster = [r for r, m in zip(remaining, near) if m]
        wts = np.array([c.score for c in cluster], np.float32)[:, None]
        box = (np.stack([c.box for c in cluster]) * wts).sum(0) / wts.sum()
        kps = (np.stack([c.keypoints for c in cluster]) * wts[:, :, None]).sum(0) / wts.sum()
        out.append(Detection(top.score, box, kps))
        remaining = [r for r, m in zip(remaining, near) if not m]
    return out


class PoseDetector:
    """The compiled detector IR and its decoding; ``detect`` takes the whole canvas."""

    def __init__(self, compiled, anchors: Anchors, decoding: Decoding, min_score: float) -> None:
        self.request = compiled.create_infer_request()
        self.size = anchors.input_size
        self.anchors = make_anchors(anchors)
        if len(self.anchors) != decoding.num_boxes:
            raise ValueError(f"{len(self.anchors)} anchors for a model of {decoding.num_boxes} boxes")
        self.decoding = Decoding(**{**decoding.__dict__, "min_score": min_score})
        self.infer_cpu_s = 0.0  # this thread's CPU time inside the model

    def detect(self, canvas: np.ndarray) -> list[Detection]:
        img = canvas if canvas.shape[0] == self.size else cv2.resize(canvas, (self.size, self.size), interpolation=cv2.INTER_AREA)
        t = time.thread_time()
        res = self.request.infer({0: img[None]})
        self.infer_cpu_s += time.thread_time() - t
        boxes, scores = res[0], res[1]
        return weighted_nms(decode(boxes, scores, self.anchors, self.decoding), self.decoding.nms_iou)
