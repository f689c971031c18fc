"""The daemon's data flow (DESIGN.md), one direction, no back-edges:

source -> capture thread -> ring -> inference (async, batched) -> voting -> counter -> events -> sink

``homegym count`` runs it offline on a file (as fast as the machine allows, no frame
dropped); ``homegym run`` runs the very same objects on a live source.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from homegym.errors import UserError

from .capture import Capture
from .config import Config
from .counter import RepCounter
from .events import Event, PartialRepEvent
from .inference import Inference, Result, resolve_model_path
from .ring import FrameRing
from .voting import Vote, Voter

log = logging.getLogger(__name__)

FrameHook = Callable[[int, float, np.ndarray, np.ndarray, Vote, RepCounter], None]


@dataclass
class Summary:
    total: int = 0
    by_exercise: dict[str, int] = field(default_factory=dict)
    partial: int = 0
    frames: int = 0
    dropped: int = 0
    reconnects: int = 0
    wall_s: float = 0.0
    infer_latency_ms: float = 0.0

    @property
    def fps(self) -> float:
        return self.frames / self.wall_s if self.wall_s > 0 else 0.0


class Pipeline:
    def __init__(self, cfg: Config, model: Path | None = None, sink: Callable[[Event], None] | None = None) -> None:
        self.cfg = cfg
        path = resolve_model_path(str(model) if model else cfg.model.path, cfg.model.precision)
        self.inference = Inference(path, cfg.model.device, cfg.model.cache_dir, cfg.model.infer_requests, cfg.model.precision)
        labels = self.inference.labels
        self.voter = Voter(labels, cfg.voting)
        self.counter = RepCounter(labels, cfg.counter)
        w, h = self.inference.working_size
        self.ring = FrameRing(max(cfg.ring_capacity, 2 * self.inference.batch + 1), (h, w, 3))
        self.sink = sink or (lambda e: log.info("%s", e.to_json()))
        self.frame_hook: FrameHook | None = None
        self.state_hook: Callable[[dict], None] | None = None  # called when the phase or a count changes
        self.stats_hook: Callable[[dict], None] | None = None  # called every ``stats_interval_s``
        self.stats_interval_s = 30.0
        self._commands: queue.Queue[tuple[str, str]] = queue.Queue(maxsize=100)
        self.summary = Summary(by_exercise={ex: 0 for ex in self.counter.exercises})
        self._seq = 0
        self._stop = threading.Event()
        self._latency_sum = 0.0
        self._batches = 0
        self.capture: Capture | None = None

    def stop(self) -> None:
        self._stop.set()

    def command(self, name: str, payload: str) -> None:
        """Queue a command from another thread (MQTT); the pipeline's own thread applies it."""
        try:
            self._commands.put_nowait((name, payload))
        except queue.Full:
            log.warning("command %s dropped: too many queued", name)

    def _apply_commands(self, t: float, frame: int) -> None:
        while not self._commands.empty():
            name, payload = self._commands.get_nowait()
            if name == "reset":
                if payload not in ("", "set", "day"):
                    log.warning("cmd/reset: expected 'set' or 'day', got %r", payload)
                    continue
                self._emit(self.counter.reset(t, frame, new_day=payload == "day"))
            elif name == "exercise":
                if payload != "auto" and payload not in self.counter.exercises:
                    log.warning("cmd/exercise: expected 'auto' or one of %s, got %r", ", ".join(self.counter.exercises), payload)
                    continue
                self.counter.forced_exercise = None if payload == "auto" else payload
            else:
                log.warning("unknown command %r", name)
                continue
            if self.state_hook is not None:
                self.state_hook(self.counter.state())

    def stats(self, elapsed: float) -> dict:
        cap = self.capture.stats if self.capture else None
        return {
            "uptime_s": round(elapsed, 1),
            "fps_in": round(cap.frames / elapsed, 2) if cap and elapsed > 0 else 0.0,
            "fps_inferred": round(self.summary.frames / elapsed, 2) if elapsed > 0 else 0.0,
            "dropped": self.ring.dropped,
            "infer_latency_ms": round(1000 * self._latency_sum / max(self._batches, 1), 2),
            "source_connected": bool(cap and cap.connected),
            "source_reconnects": cap.reconnects if cap else 0,
            "reps_total": self.counter.total,
        }

    def _emit(self, events: list[Event]) -> None:
        for e in events:
            self._seq += 1
            e.seq = self._seq  # the session's order; a persistent sink (the outbox) assigns its own
            if isinstance(e, PartialRepEvent):
                self.summary.partial += 1
            self.sink(e)

    def _consume(self, res: Result, media_fps: float | None, t0: float) -> None:
        self._latency_sum += res.latency_s
        self._batches += 1
        for i, fid in enumerate(res.ids):
            t = fid / media_fps if media_fps else res.times[i] - t0
            vote = self.voter.update(res.probs[i])
            events = self.counter.update(vote, t, int(fid))
            self._emit(events)
            if self.state_hook is not None and (vote.changed or events):
                self.state_hook(self.counter.state())
            if self.frame_hook is not None and res.frames is not None:
                self.frame_hook(int(fid), t, res.frames[i], res.probs[i], vote, self.counter)
        self.summary.frames += len(res.ids)

    def run(self, offline: bool = False) -> Summary:
        """Run until the source ends (a file) or ``stop()`` is called; returns the summary."""
        self.inference.keep_frames = self.frame_hook is not None
        cap = Capture(self.cfg.source, self.ring, self.inference.working_size, offline)
        self.capture = cap
        media_fps = cap.stats.fps if not cap.src.live else None
        t0 = time.monotonic()
        next_stats = t0 + self.stats_interval_s
        cap.start()
        try:
            while True:
                if self._stop.is_set():
                    cap.stop()
                if not self._commands.empty():
                    self._apply_commands(self.summary.frames / media_fps if media_fps else time.monotonic() - t0, self.summary.frames)
                if self.stats_hook is not None and time.monotonic() >= next_stats:
                    self.stats_hook(self.stats(time.monotonic() - t0))
                    next_stats += self.stats_interval_s
                batch = self.ring.read(self.inference.batch, timeout=0.05)
                if batch is not None:
                    self.summary.dropped += batch.dropped
                    self.inference.submit(batch)
                for res in self.inference.results():
                    self._consume(res, media_fps, t0)
                if batch is None and self.ring.drained:
                    break
            for res in self.inference.results(wait=True):
                self._consume(res, media_fps, t0)
        finally:
            cap.stop()
            cap.join(timeout=5)
        if cap.stats.error:
            raise UserError(f"capture failed: {cap.stats.error}")
        last_t = self.summary.frames / media_fps if media_fps else time.monotonic() - t0
        self._emit(self.counter.stop(last_t, self.summary.frames))
        s = self.summary
        s.total = self.counter.total
        s.by_exercise = dict(self.counter.by_exercise)
        s.reconnects = cap.stats.reconnects
        s.dropped = self.ring.dropped
        s.wall_s = time.monotonic() - t0
        s.infer_latency_ms = 1000 * self._latency_sum / max(self._batches, 1)
        return s
