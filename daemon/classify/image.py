"""The image classifier: the IR from convert, batched, with asynchronous requests so capture and inference overlap.

Labels, sizes and batch come from the IR's runtime info; the IR does its own
preprocessing, so a batch of working-size BGR frames goes in as it comes off the ring.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from homegym.core.framing import Framer, Framing
from homegym.core.letterbox import Letterbox
from homegym.core.model_info import IMAGE, ModelInfo, add_features_output
from homegym.core.runtime import compile_model, make_core

from ..frames.ring import Batch
from ..pose.stage import Pose
from .base import Result

log = logging.getLogger(__name__)


class ImageClassifier:
    """Pixels in: a frame framed as training framed it (whole, or the motion crop), at the IR's working size."""

    kind = IMAGE

    def __init__(self, model, info: ModelInfo, model_path: Path, device: str = "CPU", cache_dir: Path | None = None,
                 requests: int = 2, hint: str = "LATENCY", cpu_precision: str = "f32") -> None:
        """``model`` and ``info``: the IR as ``read_model_ir`` read it (``open_model`` checked its precision)."""
        import openvino as ov

        core = make_core(cache_dir)
        self.info = info
        self.feature_dim = add_features_output(model)
        if self.feature_dim is None:
            log.warning("model %s has no pooled-feature layer before a MatMul head: periodicity is off", model_path)
        single = model.clone() if self.info.batch > 1 else None  # the batch-1 copy, features output included
        t = time.perf_counter()
        self.compiled = compile_model(core, model, device, hint, cpu_precision=cpu_precision)
        log.info("model %s (%s, %s, batch %d) compiled on %s in %.2f s", model_path, ", ".join(self.info.labels),
                 self.info.precision, self.info.batch, device, time.perf_counter() - t)
        self.batch = self.info.batch
        self.keep_frames = False
        self._queue = ov.AsyncInferQueue(self.compiled, requests)
        self._queue.set_callback(self._done)
        # A live camera delivers one frame at a time: padding it to the batch would run the
        # model `batch` times per frame. A second static shape, batch 1, takes those frames,
        # on one CPU thread (5.7 against 8.5 ms of CPU a frame on two cores); a source that
        # runs ahead of inference fills whole batches, which get every core.
        self.compiled_single = None  # the batch-1 copy's compiled model (None where the IR's batch is 1)
        self._single_queue = None
        if single is not None:
            single.reshape([1, *list(single.input(0).get_partial_shape().to_shape())[1:]])
            self.compiled_single = compile_model(core, single, device, hint, cpu_threads=1, cpu_precision=cpu_precision)
            self._single_queue = ov.AsyncInferQueue(self.compiled_single, requests)
            self._single_queue.set_callback(self._done)
        self._lock = threading.Lock()
        self._finished: dict[int, Result] = {}
        self._next_out = 0
        self._next_in = 0

    @property
    def labels(self) -> tuple[str, ...]:
        return self.info.labels

    @property
    def working_size(self) -> tuple[int, int]:
        return self.info.working_size

    @property
    def framing(self) -> Framing:
        return self.info.framing

    @property
    def uses_pose(self) -> bool:
        return False

    def picture(self, canvas: Letterbox) -> Framer:
        return Framer(self.framing, self.working_size)

    def takes(self) -> tuple:
        return self.kind, self.working_size, self.batch, self.framing

    def reset(self) -> None:
        """A new source: nothing to forget (each frame stands alone)."""

    def _done(self, request, userdata) -> None:
        seq, batch, n, t0 = userdata
        probs = request.get_output_tensor(0).data[:n].copy()
        feats = request.get_output_tensor(1).data[:n].copy() if self.feature_dim else None
        with self._lock:
            self._finished[seq] = Result(batch.ids, batch.times, probs, time.perf_counter() - t0,
                                         batch.frames if self.keep_frames else None, feats)

    def submit(self, batch: Batch, poses: Sequence[Pose | None] = (), times: Sequence[float] = ()) -> None:
        """Start inference: a full batch at once, a partial one frame by frame (batch 1); blocks only while
        every request is busy. Results come back in submission order whichever way they went. The pixels
        are all it reads."""
        n = len(batch.frames)
        if n == self.batch:
            self._start(self._queue, batch.frames, batch, n)
            return
        for i in range(n):
            one = Batch(batch.frames[i: i + 1], batch.ids[i: i + 1], batch.times[i: i + 1], batch.dropped if i == 0 else 0)
            self._start(self._single_queue, one.frames, one, 1)

    def _start(self, queue, frames: np.ndarray, batch: Batch, n: int) -> None:
        seq = self._next_in
        self._next_in += 1
        queue.start_async({0: frames}, (seq, batch, n, time.perf_counter()))

    def results(self, wait: bool = False) -> list[Result]:
        """Completed results in submission order; ``wait`` blocks until all submitted ones are done."""
        if wait:
            self._queue.wait_all()
            if self._single_queue is not None:
                self._single_queue.wait_all()
        out = []
        with self._lock:
            while self._next_out in self._finished:
                out.append(self._finished.pop(self._next_out))
                self._next_out += 1
        return out

