"""What every classifier is to the pipeline: frames (and their poses) in, per-frame label probabilities out.

The pipeline holds a ``Classifier`` and never asks which kind it is: the classifier says
what picture the ring keeps for it (``picture``), whether it reads the pose stage
(``uses_pose``), and what it takes from the ring (``takes``, so a reload knows whether
a new model needs a new ring). A new kind implements this protocol and its factory
entry (``factory.open_model``), and the pipeline does not change.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from homegym.core.framing import Framer
from homegym.core.letterbox import Letterbox

from ..frames.ring import Batch
from ..pose.stage import Pose


@dataclass(frozen=True)
class Result:
    ids: np.ndarray  # frame ids, increasing
    times: np.ndarray  # capture times (monotonic seconds)
    probs: np.ndarray  # (n, labels) class probabilities
    latency_s: float  # submit to completion
    frames: np.ndarray | None = None  # the batch's pixels, when kept (for --annotate)
    feats: np.ndarray | None = None  # (n, feature_dim) pooled features, where the model exposes them


class Classifier(Protocol):
    kind: str  # the IR's homegym/kind
    batch: int  # frames a request takes
    feature_dim: int | None  # pooled image features beside the probabilities (the periodicity's), or None
    keep_frames: bool  # hand each result its batch's pixels (a page or --annotate shows them)

    @property
    def labels(self) -> tuple[str, ...]: ...

    @property
    def uses_pose(self) -> bool:
        """It reads the pose stage's landmarks: the stage runs, and its canvas is the ring's only picture."""
        ...

    def picture(self, canvas: Letterbox) -> Framer | Letterbox:
        """How capture makes the ring's picture of each frame for it (``canvas``: the pose stage's)."""
        ...

    def takes(self) -> tuple:
        """What it takes from the ring: two classifiers with equal ``takes`` share a ring."""
        ...

    def reset(self) -> None:
        """A new source: forget what the last one showed."""
        ...

    def submit(self, batch: Batch, poses: Sequence[Pose | None], times: Sequence[float]) -> None:
        """Start on a batch; ``poses`` (None where the stage is off) and ``times`` (seconds) frame by frame."""
        ...

    def results(self, wait: bool = False) -> list[Result]:
        """Finished results in submission order; ``wait``: every submitted one."""
        ...
