"""The frame ring between capture and inference: preallocated, fixed capacity, overwrite-oldest.

The writer never blocks (a live camera must not wait for inference); the reader
takes the frames it has not seen yet, oldest first, up to a batch. Frames
overwritten before they were read are counted as dropped, never silently lost.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Batch:
    frames: np.ndarray  # (n, h, w, 3) uint8: a copy the caller owns
    ids: np.ndarray  # (n,) frame ids, increasing
    times: np.ndarray  # (n,) monotonic capture times, seconds
    dropped: int  # frames lost to overwriting since the previous read
    aux: np.ndarray | None = None  # (n, ...) the second picture of each frame, where the ring keeps one (the pose canvas)


class FrameRing:
    def __init__(self, capacity: int, shape: tuple[int, int, int], aux_shape: tuple[int, int, int] | None = None) -> None:
        if capacity < 2:
            raise ValueError("capacity must be >= 2 (one slot is always the writer's)")
        self.capacity = capacity
        self.shape = shape  # one picture's (h, w, 3)
        self._frames = np.zeros((capacity, *shape), np.uint8)
        # a second picture per slot, written and read with the first (the pose stage's canvas beside the classifier's frame)
        self._aux = np.zeros((capacity, *aux_shape), np.uint8) if aux_shape else None
        self._ids = np.zeros(capacity, np.int64)
        self._times = np.zeros(capacity, np.float64)
        self._written = 0  # total frames ever written; slot = written % capacity
        self._read = 0  # total frames handed out or dropped
        self._dropped_total = 0
        self._closed = False
        self._cond = threading.Condition()

    @property
    def dropped(self) -> int:
        with self._cond:
            return self._dropped_total

    def slot_for_write(self) -> np.ndarray:
        """The buffer the next ``commit`` publishes: capture decodes/resizes straight into it (no copy)."""
        return self._frames[self._written % self.capacity]

    def aux_slot_for_write(self) -> np.ndarray:
        """The second picture's buffer of the slot ``slot_for_write`` returns."""
        assert self._aux is not None, "this ring keeps one picture a frame"
        return self._aux[self._written % self.capacity]

    def commit(self, frame_id: int, t: float) -> None:
        with self._cond:
            slot = self._written % self.capacity
            self._ids[slot] = frame_id
            self._times[slot] = t
            self._written += 1
            self._cond.notify_all()

    def write(self, frame: np.ndarray, frame_id: int, t: float) -> None:
        """Copy ``frame`` in (for callers that already hold the pixels elsewhere)."""
        np.copyto(self.slot_for_write(), frame)
        self.commit(frame_id, t)

    def wait_for_space(self, timeout: float | None = None) -> bool:
        """Back-pressure for offline runs: wait until the next write overwrites nothing unread."""
        with self._cond:
            return self._cond.wait_for(lambda: self._written - self._read < self.capacity - 1, timeout)

    @property
    def drained(self) -> bool:
        """Closed, and every frame read or dropped."""
        with self._cond:
            return self._closed and self._read >= self._written

    def close(self) -> None:
        """No more frames will come: a waiting reader wakes and gets what is left."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def read(self, max_n: int, timeout: float | None = None, copy: bool = True) -> Batch | None:
        """Up to ``max_n`` unseen frames, oldest first; waits up to ``timeout`` (None: for ever) for one.

        Returns None on timeout with nothing new, or when the ring is closed and drained.
        The slot the writer is filling is never handed out, so ``capacity - 1`` frames are
        readable at once and a frame is never torn. ``copy=False``: the pictures are views of the
        ring's slots where they lie in one piece, valid until the writer comes round again
        (``capacity - 1`` frames on): for a reader done with them before its next read.
        """
        with self._cond:
            if not self._cond.wait_for(lambda: self._written > self._read or self._closed, timeout):
                return None
            lost = max(0, self._written - (self.capacity - 1) - self._read)
            self._read += lost
            self._dropped_total += lost
            n = min(max_n, self._written - self._read)
            if n <= 0:
                return None
            first = self._read % self.capacity
            slots: slice | np.ndarray = (slice(first, first + n) if not copy and first + n <= self.capacity
                                         else np.arange(self._read, self._read + n) % self.capacity)
            batch = Batch(self._frames[slots], self._ids[slots].copy(), self._times[slots].copy(), lost,
                          self._aux[slots] if self._aux is not None else None)
            self._read += n
            self._cond.notify_all()  # a writer waiting for space
            return batch
