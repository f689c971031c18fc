"""The pipeline's health: what ``gym/stats``, the systemd status line and the run's summary report.

Counters only; the pipeline feeds them and reads them back. Kept apart from the loop so
the loop says what it does and the figures say what they mean.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from ..frames.capture import Capture


@dataclass
class Summary:
    """What a run did, when it ends (``homegym count`` prints it; ``homegym run`` logs it)."""

    total: int = 0
    by_exercise: dict[str, int] = field(default_factory=dict)
    partial: int = 0
    frames: int = 0  # inferred
    frames_read: int = 0  # from the source (pipeline.infer_fps passes on only some)
    frames_declared: int = 0  # by a file's container (0: unknown, or a live source)
    dropped: int = 0
    reconnects: int = 0
    wall_s: float = 0.0
    infer_latency_ms: float = 0.0
    pose_ms: float | None = None  # the pose stage's time a frame, where it ran
    pose_found: float | None = None  # its share of frames with a person
    rested: int = 0  # frames the quiet rest passed over (live, the person still)

    @property
    def fps(self) -> float:
        return self.frames / self.wall_s if self.wall_s > 0 else 0.0


@dataclass(frozen=True)
class Counts:
    """The running sums at one moment: two of them give the figures of the time between (the live page's health)."""

    t: float
    frames: int
    latency_s: float
    batches: int
    posed: int
    pose_s: float

    def since(self, before: Counts) -> dict:
        """Frames inferred a second, inference and pose-stage milliseconds, over the time from ``before`` to this."""
        dt = max(self.t - before.t, 1e-6)
        batches, posed = self.batches - before.batches, self.posed - before.posed
        return {"fps": round((self.frames - before.frames) / dt, 1),
                "infer_ms": round(1000 * (self.latency_s - before.latency_s) / batches, 1) if batches else None,
                "pose_ms": round(1000 * (self.pose_s - before.pose_s) / posed, 1) if posed else None}


class Health:
    """Inference latency, and drops and reconnects summed over every capture a reload replaced."""

    def __init__(self) -> None:
        self.t0 = time.monotonic()
        self.frames = 0  # inferred
        self.partial = 0
        self._latency_sum = 0.0
        self._batches = 0
        self._dropped_before = 0
        self._reconnects_before = 0
        self.posed_frames = 0
        self.rested = 0  # frames the quiet rest passed over
        self.pose_found = 0
        self._pose_s = 0.0

    def posed(self, seconds: float, found: bool) -> None:
        """A frame through the pose stage."""
        self.posed_frames += 1
        self.pose_found += found
        self._pose_s += seconds

    @property
    def pose_ms(self) -> float | None:
        return 1000 * self._pose_s / self.posed_frames if self.posed_frames else None

    def counts(self) -> Counts:
        return Counts(time.monotonic(), self.frames, self._latency_sum, self._batches, self.posed_frames, self._pose_s)

    def inferred(self, frames: int, latency_s: float) -> None:
        self.frames += frames
        self._latency_sum += latency_s
        self._batches += 1

    def retire(self, capture: Capture, dropped: int) -> None:
        """A capture (and its ring) is being replaced: keep its figures."""
        self._reconnects_before += capture.stats.reconnects
        self._dropped_before += dropped

    @property
    def latency_ms(self) -> float:
        return 1000 * self._latency_sum / max(self._batches, 1)

    def dropped(self, ring_dropped: int) -> int:
        return self._dropped_before + ring_dropped

    def reconnects(self, capture: Capture | None) -> int:
        return self._reconnects_before + (capture.stats.reconnects if capture else 0)

    @staticmethod
    def source_state(capture: Capture | None) -> str:
        """connecting, connected, stalled (connected, but no frame for stall_timeout_s), reconnecting or ended."""
        if capture is None:
            return "connecting"
        cap = capture.stats
        if cap.state == "connected" and capture.src.live and cap.last_frame_t \
                and time.monotonic() - cap.last_frame_t > capture.cfg.stall_timeout_s:
            return "stalled"
        return cap.state

    def stats(self, capture: Capture | None, ring_dropped: int, reps_total: int) -> dict:
        """The periodic health report (``gym/stats``)."""
        elapsed = time.monotonic() - self.t0
        cap = capture.stats if capture else None
        return {
            "uptime_s": round(elapsed, 1),
            "fps_in": round(cap.frames / elapsed, 2) if cap and elapsed > 0 else 0.0,
            "fps_inferred": round(self.frames / elapsed, 2) if elapsed > 0 else 0.0,
            "dropped": self.dropped(ring_dropped),
            "infer_latency_ms": round(self.latency_ms, 2),
            "source_connected": bool(cap and cap.connected),
            "source_state": self.source_state(capture),
            "source_last_frame_age_s": round(time.monotonic() - cap.last_frame_t, 1) if cap and cap.last_frame_t else None,
            "source_reconnects": self.reconnects(capture),
            "reps_total": reps_total,
            **({"pose_ms": round(self.pose_ms or 0.0, 2), "person_in_view": round(self.pose_found / self.posed_frames, 3)}
               if self.posed_frames else {}),
        }
