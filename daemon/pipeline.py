"""The daemon's data flow (DESIGN.md), one direction, no back-edges:

source -> capture thread -> ring -> inference (async, batched) -> exercise folding -> periodicity
       -> voting -> counter -> events -> sink

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

import cv2
import numpy as np

from homegym.core.errors import UserError

from .capture import Capture
from .config import Config, CounterConfig, PeriodicityConfig, SourceConfig, VotingConfig
from .counter import RepCounter
from .events import Event, PartialRepEvent
from .exercise import ExerciseFold
from .inference import Inference, Result, hint_for, open_model
from .periodicity import Periodicity
from .ring import FrameRing
from .voting import Vote, Voter

log = logging.getLogger(__name__)

# frame id, time, pixels, class probabilities, pooled features (or None), the vote, the counter
FrameHook = Callable[[int, float, np.ndarray, np.ndarray, "np.ndarray | None", Vote, RepCounter], None]


@dataclass
class Summary:
    total: int = 0
    by_exercise: dict[str, int] = field(default_factory=dict)
    partial: int = 0
    frames: int = 0  # inferred
    frames_read: int = 0  # from the source (pipeline.infer_fps passes on only some)
    dropped: int = 0
    reconnects: int = 0
    wall_s: float = 0.0
    infer_latency_ms: float = 0.0

    @property
    def fps(self) -> float:
        return self.frames / self.wall_s if self.wall_s > 0 else 0.0


def step(fold: ExerciseFold | None, periodicity: Periodicity | None, voter: Voter, counter: RepCounter,
         probs: np.ndarray, feats: np.ndarray | None, t: float, frame: int) -> tuple[Vote, list[Event]]:
    """One inferred frame through folding, periodicity, voting and counting: the pipeline's per-frame
    logic, which ``replay`` runs again on recorded probabilities and features."""
    if fold is not None:
        probs = fold.update(probs)
    if periodicity is not None and feats is not None:
        probs = periodicity.update(probs, feats, t)
    vote = voter.update(probs)
    return vote, counter.update(vote, t, frame)


def make_periodicity(labels: tuple[str, ...], dim: int | None, cfg: PeriodicityConfig) -> Periodicity | None:
    return Periodicity(labels, dim, cfg) if cfg.enabled and dim else None


def replay(labels: tuple[str, ...], cfg: Config, frames: list[tuple[int, float, np.ndarray, np.ndarray | None]]) -> RepCounter:
    """Count recorded (frame id, time, probabilities, features) under ``cfg`` as the pipeline would
    have: what ``homegym tune`` tries each candidate setting on, without running the model again."""
    fold, voter, counter = Pipeline._make_fold(labels, cfg), Voter(labels, cfg.voting), RepCounter(labels, cfg.counter)
    dim = next((len(f[3]) for f in frames if f[3] is not None), None)
    periodicity = make_periodicity(labels, dim, cfg.periodicity)
    for fid, t, probs, feats in frames:
        step(fold, periodicity, voter, counter, probs, feats, t, fid)
    if frames:
        counter.stop(frames[-1][1], len(frames))
    return counter


class Pipeline:
    def __init__(self, cfg: Config, model: Path | None = None, sink: Callable[[Event], None] | None = None) -> None:
        self.cfg = cfg
        cv2.setNumThreads(1)  # OpenCV's pool would fight inference for the cores over a downscale that needs none
        self.inference = open_model(cfg.model, model, hint_for(cfg.source))
        labels = self.inference.labels
        self.voter = Voter(labels, cfg.voting)
        self.fold = self._make_fold(labels, cfg)
        self.periodicity = make_periodicity(labels, self.inference.feature_dim, cfg.periodicity)
        self.counter = RepCounter(labels, cfg.counter)
        w, h = self.inference.working_size
        self.ring = FrameRing(max(cfg.pipeline.ring_capacity, 2 * self.inference.batch + 1), (h, w, 3))
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
        # Hooks of the service (systemd): every loop turn (the pipeline's own progress), and the first frame.
        self.tick_hook: Callable[[float], None] | None = None
        self.ready_hook: Callable[[], None] | None = None
        self._offline = False
        self._next_source: SourceConfig | None = None  # a source restart waiting for the ring to drain
        self._next_inference: Inference | None = None  # a model whose sizes need a new ring
        self._id_base = 0  # frame id and media time at the start of the current capture
        self._t_base = 0.0
        self._last_t = 0.0
        self._t0 = 0.0
        self._reconnects_before = 0  # of captures (and rings) replaced by a reload
        self._dropped_before = 0
        self._media_fps: float | None = None

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
            "dropped": self._dropped_before + self.ring.dropped,
            "infer_latency_ms": round(1000 * self._latency_sum / max(self._batches, 1), 2),
            "source_connected": bool(cap and cap.connected),
            "source_state": self._source_state(),
            "source_last_frame_age_s": round(time.monotonic() - cap.last_frame_t, 1) if cap and cap.last_frame_t else None,
            "source_reconnects": self._reconnects_before + (cap.reconnects if cap else 0),
            "reps_total": self.counter.total,
        }

    def _source_state(self) -> str:
        """connecting, connected, stalled (connected, but no frame for stall_timeout_s), reconnecting or ended."""
        if self.capture is None:
            return "connecting"
        cap = self.capture.stats
        if cap.state == "connected" and self.capture.src.live and cap.last_frame_t \
                and time.monotonic() - cap.last_frame_t > self.capture.cfg.stall_timeout_s:
            return "stalled"
        return cap.state

    def _emit(self, events: list[Event]) -> None:
        for e in events:
            self._seq += 1
            e.seq = self._seq  # the session's order; a persistent sink (the outbox) assigns its own
            if isinstance(e, PartialRepEvent):
                self.summary.partial += 1
            self.sink(e)

    def _consume(self, res: Result) -> None:
        self._latency_sum += res.latency_s
        self._batches += 1
        fps = self._media_fps
        for i, fid in enumerate(res.ids):
            # A file's own clock (as fast as we can read it, counting must not change); a live source's capture time.
            t = self._t_base + (fid - self._id_base) / fps if fps else res.times[i] - self._t0
            self._last_t = t
            feats = res.feats[i] if res.feats is not None else None
            vote, events = step(self.fold, self.periodicity, self.voter, self.counter, res.probs[i], feats, t, int(fid))
            if vote.changed:
                log.debug("frame %d (%.2f s): phase %s", fid, t, vote.phase)
            self._emit(events)
            if self.state_hook is not None and (vote.changed or events):
                self.state_hook(self.counter.state())
            if self.frame_hook is not None and res.frames is not None:
                self.frame_hook(int(fid), t, res.frames[i], res.probs[i], feats, vote, self.counter)
        self.summary.frames += len(res.ids)

    # -- restarting one stage (a reload) ---------------------------------------------------------

    @staticmethod
    def _make_fold(labels: tuple[str, ...], cfg: Config) -> ExerciseFold | None:
        fold = ExerciseFold(labels, cfg.voting.exercise_alpha, cfg.counter.exercise)
        return fold if cfg.voting.fold_exercises and fold.active else None

    def set_voting(self, cfg: VotingConfig) -> None:
        self.voter.reconfigure(cfg)
        if self.fold is None or not cfg.fold_exercises:
            self.fold = self._make_fold(self.counter.labels, self.cfg)
        else:
            self.fold.alpha = cfg.exercise_alpha

    def set_periodicity(self, cfg: PeriodicityConfig) -> None:
        """A new periodicity setting starts its window afresh (a reload)."""
        self.periodicity = make_periodicity(self.counter.labels, self.inference.feature_dim, cfg)

    def set_counter(self, cfg: CounterConfig) -> None:
        """New thresholds at once; the counts stay (a changed exercise of a seed-style model rebuilds the counter)."""
        if cfg.exercise == self.counter.cfg.exercise:
            self.counter.cfg = cfg
        else:
            self._rebuild_counter(self.counter.labels, cfg)

    def _rebuild_counter(self, labels: tuple[str, ...], cfg: CounterConfig) -> None:
        old = self.counter
        self.counter = RepCounter(labels, cfg)
        self.counter.today, self.counter.day = old.today, old.day
        self.counter.restore({ex: n for ex, n in old.by_exercise.items() if ex in self.counter.exercises})
        self.summary.by_exercise = {ex: 0 for ex in self.counter.exercises}

    def replace_source(self, cfg: SourceConfig) -> None:
        """Restart capture on a new source once the frames already in the ring are counted."""
        self._next_source = cfg
        if self.capture is not None:
            self.capture.stop()

    def replace_model(self, inference: Inference) -> None:
        """Swap in a compiled model: at once if it takes the same frames, else with a new ring and capture."""
        same_frames = ((inference.working_size, inference.batch, inference.info.framing)
                       == (self.inference.working_size, self.inference.batch, self.inference.info.framing))
        if same_frames:
            self._swap_inference(inference)
        else:
            self._next_inference = inference
            self.replace_source(self._next_source or self.capture.cfg)

    def _swap_inference(self, inference: Inference) -> None:
        for res in self.inference.results(wait=True):
            self._consume(res)
        inference.keep_frames = self.inference.keep_frames
        if inference.labels != self.inference.labels:
            self.voter = Voter(inference.labels, self.voter.cfg)
            self.fold = self._make_fold(inference.labels, self.cfg)
            self._rebuild_counter(inference.labels, self.counter.cfg)
        self.periodicity = make_periodicity(inference.labels, inference.feature_dim, self.cfg.periodicity)  # new features
        self.inference = inference

    def _start_capture(self, cfg: SourceConfig) -> None:
        first_id = 0
        if self.capture is not None:
            first_id = int(self.capture.first_id + self.capture.stats.frames)
            self._reconnects_before += self.capture.stats.reconnects
            self._dropped_before += self.ring.dropped
            w, h = self.inference.working_size
            self.ring = FrameRing(max(self.cfg.pipeline.ring_capacity, 2 * self.inference.batch + 1), (h, w, 3))
        cap = Capture(cfg, self.ring, self.inference.working_size, self._offline, first_id, self.cfg.pipeline.infer_fps,
                      self.inference.info.framing)
        self.capture = cap
        self._media_fps = cap.stats.fps if not cap.src.live else None
        self._id_base, self._t_base = first_id, self._last_t
        cap.start()

    def _restart_stage(self) -> None:
        """The old capture has ended and its frames are counted: start the next model and source."""
        if self._next_inference is not None:
            self._swap_inference(self._next_inference)
            self._next_inference = None
        cfg, self._next_source = self._next_source, None
        try:
            self._start_capture(cfg)
        except UserError as e:  # e.g. a file that vanished: the daemon cannot go on without a source
            raise UserError(f"new source {cfg.uri}: {e}") from None
        log.info("source restarted: %s", cfg.uri)

    def run(self, offline: bool = False) -> Summary:
        """Run until the source ends (a file) or ``stop()`` is called; returns the summary."""
        self._offline = offline
        self.inference.keep_frames = self.frame_hook is not None
        self._t0 = t0 = time.monotonic()
        self._start_capture(self.cfg.source)
        next_stats = t0 + self.stats_interval_s
        ready = False
        try:
            while True:
                now = time.monotonic()
                if self.tick_hook is not None:
                    self.tick_hook(now)
                if self._stop.is_set():
                    self.capture.stop()
                if not self._commands.empty():
                    self._apply_commands(self._last_t, self.summary.frames)
                if self.stats_hook is not None and now >= next_stats:
                    self.stats_hook(self.stats(now - t0))
                    next_stats += self.stats_interval_s
                batch = self.ring.read(self.inference.batch, timeout=0.05)
                if batch is not None:
                    if not ready and self.ready_hook is not None:
                        self.ready_hook()
                    ready = True
                    self.inference.submit(batch)
                for res in self.inference.results():
                    self._consume(res)
                if batch is None and self.ring.drained:
                    if self._next_source is None or self._stop.is_set() or self.capture.stats.error:
                        break
                    self._restart_stage()
            for res in self.inference.results(wait=True):
                self._consume(res)
        finally:
            self.capture.stop()
            self.capture.join(timeout=5)
        cap = self.capture
        if cap.stats.error:
            raise UserError(f"capture failed: {cap.stats.error}")
        last_t = self._last_t if self._media_fps else time.monotonic() - t0
        self._emit(self.counter.stop(last_t, self.summary.frames))
        s = self.summary
        s.total = self.counter.total
        s.by_exercise = dict(self.counter.by_exercise)
        s.reconnects = self._reconnects_before + cap.stats.reconnects
        s.frames_read = int(cap.first_id + cap.stats.frames)
        s.dropped = self._dropped_before + self.ring.dropped
        s.wall_s = time.monotonic() - t0
        s.infer_latency_ms = 1000 * self._latency_sum / max(self._batches, 1)
        return s
