"""The daemon's loop and its stages' lifecycle (DESIGN.md), one direction, no back-edges:

source -> capture thread -> ring -> [pose stage] -> classifier -> chain (fold, periodicity, voting, counter)
-> observer

With the pose stage on (``pose.enabled``, or ``count --annotate``), the ring keeps the stage's square
canvas beside each frame the classifier takes (both made by the capture thread from the same decoded
frame, so the classifier sees what it sees without the stage, and counts the same); the stage tracks
the person on the canvases, frame by frame, before the frames go to the classifier. Which classifier
runs is the classifier's business (``classify.base.Classifier``): this file never asks its kind.

The constructor only sets fields; ``start()`` opens the pose stage and the ring, ``run()`` moves the
frames until the source ends or ``stop()`` is called.

``homegym count`` runs it offline on a file (as fast as the machine allows, no frame
dropped); ``homegym run`` runs the very same objects on a live source. The per-frame logic
is ``chain.Chain``; the figures are ``health.Health``; this file only moves frames and
restarts a stage when a reload asks for it.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from pathlib import Path

import cv2

from homegym.core.errors import UserError
from homegym.core.letterbox import Letterbox

from ..classify.base import Classifier, Result
from ..classify.factory import hint_for, open_model
from ..config.settings import Config, SourceConfig
from ..counting.chain import Chain, Totals
from ..counting.counter import RepCounter
from ..counting.events import Event, PartialRepEvent
from ..frames.capture import Capture
from ..frames.ring import Batch, FrameRing
from ..pose.stage import Pose, PoseTracker, open_pose
from .health import Health, Summary
from .observer import FrameView, Observer
from .rest import QuietRest
from .sequence import Numbering, RunNumbering

log = logging.getLogger(__name__)
PARTLY_DECODED = 0.9  # a file that decodes to fewer of the frames it declares is reported damaged

__all__ = ["Pipeline", "Summary"]


class Pipeline:
    def __init__(self, cfg: Config, classifier: Classifier, observer: Observer | None = None,
                 clock: Callable[[], str] | None = None, pose: bool = False, stats_interval_s: float | None = None,
                 numbering: Numbering | None = None, live: bool = False) -> None:
        """``clock``: today's date, for a daemon whose totals start again at midnight; ``pose``: run the pose stage
        whatever the config says (count --annotate); ``stats_interval_s``: how often observer.on_stats is called
        (None: never); ``numbering``: where events get their ``seq`` (the run's own numbers by default); ``live``:
        a file with a camera's throttles (one thread, the idle detector), its frames on the media clock and none
        dropped: what ``run`` does live, the same on any machine (``eval --live media``)."""
        self.cfg = cfg
        self.live = live
        self.classifier = classifier
        self._pose_forced = pose
        self.pose: PoseTracker | None = None
        self.rest: QuietRest | None = None  # live only, with the keypoint classifier: see _open_pose
        self.letterbox: Letterbox | None = None
        self._pose_changed = False  # a reload changed pose.*: the stage reopens with the next capture
        self._poses: dict[int, tuple[Pose, object]] = {}  # frame id -> the stage's result and canvas, until consumed
        self._woken: set[int] = set()  # frames on which the quiet rest woke, until consumed
        self.chain = Chain(classifier.labels, classifier.feature_dim, cfg, clock)
        self.ring: FrameRing | None = None
        self.observer = observer or Observer()
        self.health = Health()
        self.stats_interval_s = stats_interval_s
        self.numbering: Numbering = numbering or RunNumbering()
        self.capture: Capture | None = None
        self._commands: queue.Queue[tuple[str, str]] = queue.Queue(maxsize=100)
        self._stop = threading.Event()
        self._next_source: SourceConfig | None = None  # a source restart waiting for the ring to drain
        self._next_classifier: Classifier | None = None  # a model whose sizes need a new ring
        self._id_base = 0  # frame id and media time at the start of the current capture
        self._t_base = 0.0
        self._last_t = 0.0
        self._last_frame = 0  # the source's frame number of the last inferred frame (events carry source numbers)
        self._media_fps: float | None = None

    @classmethod
    def open(cls, cfg: Config, model: Path | None = None, observer: Observer | None = None,
             clock: Callable[[], str] | None = None, pose: bool = False, live: bool = False) -> Pipeline:
        """A pipeline on the configured model (``model``: the command line's --model instead), compiled."""
        return cls(cfg, open_model(cfg.model, model, hint_for(cfg.source, live)), observer, clock, pose, live=live)

    def start(self) -> None:
        """Open the pose stage (where it runs) and the ring; ``run`` starts it where nobody did."""
        cv2.setNumThreads(1)  # OpenCV's pool would fight inference for the cores over a downscale that needs none
        if self.cfg.periodicity.enabled and not self.classifier.feature_dim:
            log.info("periodicity: off with this model (it reads an image classifier's pooled features; this one has none)")
        self._open_pose()
        if self.cfg.form.enabled and self.pose is None:
            log.info("form: reps are not measured without the pose stage (this model does not read it: set pose.enabled)")
        self.ring = self._new_ring()

    @property
    def counter(self) -> RepCounter:
        return self.chain.counter

    def totals(self) -> Totals:
        return self.chain.totals()

    def restore_totals(self, by_exercise: dict[str, int]) -> None:
        self.chain.restore(by_exercise)

    def state(self) -> dict:
        return self.chain.state()

    def _open_pose(self) -> None:
        cfg = self.cfg
        self.pose, self.letterbox = None, None
        if self._pose_forced or cfg.pose.enabled or self.classifier.uses_pose:
            self.pose = open_pose(cfg.pose, self._live, cfg.model.cache_path())
            self.letterbox = Letterbox(cfg.pose.frame_size)
        self._open_rest()
        self.chain.pose_stage(self.pose is not None)

    @property
    def _live(self) -> bool:
        """Frames come as a camera's (a live source, a file read in real time, or counted as live): the live throttles."""
        return hint_for(self.cfg.source, self.live) == "LATENCY"

    def _open_rest(self) -> None:
        """The quiet rest where the daemon counts live from the stage a frame at a time (the keypoint classifier)."""
        wanted = self._live and self.cfg.rest.enabled and self.pose is not None and self.classifier.uses_pose
        self.rest = QuietRest(self.cfg.rest) if wanted and self.classifier.batch == 1 else None

    def _canvas(self) -> Letterbox:
        """The pose stage's canvas (pose.frame_size, which a reload may change while the model stays)."""
        return self.letterbox or Letterbox(self.cfg.pose.frame_size)

    @property
    def _canvas_beside(self) -> bool:
        """The ring keeps the pose stage's canvas as a second picture: the stage runs for another reason than the
        classifier (pose.enabled, count --annotate), whose own picture is another."""
        return self.pose is not None and not self.classifier.uses_pose

    def _new_ring(self) -> FrameRing:
        """The classifier's picture of each frame, and the pose stage's canvas beside it where ``_canvas_beside``."""
        canvas = self._canvas()
        w, h = self.classifier.picture(canvas).wh
        side = (*canvas.wh[::-1], 3) if self._canvas_beside else None
        return FrameRing(max(self.cfg.pipeline.ring_capacity, 2 * self.classifier.batch + 1), (h, w, 3), side)

    def _time(self, fid: int, captured: float) -> float:
        """A file's own clock (as fast as we can read it, counting must not change); a live source's capture time."""
        fps = self._media_fps
        return self._t_base + (fid - self._id_base) / fps if fps else captured - self.health.t0

    def _track(self, batch: Batch) -> None:
        """The pose stage on each canvas of ``batch``, in order; the results wait for their frames' probabilities."""
        assert self.pose is not None
        keep = self.observer.wants_frames
        canvases = batch.aux if batch.aux is not None else batch.frames
        for i, fid in enumerate(batch.ids):
            canvas = canvases[i]
            t = self._time(int(fid), float(batch.times[i]))
            t0 = time.perf_counter()
            pose = self.pose.step(canvas, t)
            self.health.posed(time.perf_counter() - t0, pose.found)
            self._poses[int(fid)] = (pose, canvas if keep else None)
            if self.rest is not None:
                self._observe_rest(pose, t, int(fid))

    def _observe_rest(self, pose: Pose, t: float, fid: int) -> None:
        assert self.rest is not None
        was = self.rest.resting
        self.rest.observe(pose.landmarks if pose.found else None, t)
        if was and not self.rest.resting:
            self._woken.add(fid)  # the chain hears of it with this frame, after the frames before it
        capture = self.capture
        if self.rest.resting != was and capture is not None and (capture.src.live or capture.cfg.realtime):
            # a camera's frames on the wall clock: the capture thread need not even convert the frames rest skips
            capture.rest_fps = self.cfg.rest.fps if self.rest.resting else None

    def _rested(self, batch: Batch) -> bool:
        """The quiet rest skips this frame (it is not due): no stage, no classifier."""
        if self.rest is None or len(batch.ids) != 1:
            return False
        return not self.rest.due(self._time(int(batch.ids[0]), float(batch.times[0])))

    def _submit(self, batch: Batch) -> None:
        ids = [int(f) for f in batch.ids]
        poses = [self._poses[f][0] if f in self._poses else None for f in ids]
        self.classifier.submit(batch, poses, [self._time(f, float(t)) for f, t in zip(ids, batch.times)])

    def stop(self) -> None:
        self._stop.set()

    def command(self, name: str, payload: str) -> None:
        """Queue a command from another thread (MQTT); the pipeline's own thread applies it."""
        try:
            self._commands.put_nowait((name, payload))
        except queue.Full:
            log.warning("command %s dropped: too many queued", name[:64])

    def _apply_commands(self) -> None:
        while not self._commands.empty():
            name, payload = self._commands.get_nowait()
            events = self.chain.command(name, payload, self._last_t, self._last_frame)
            if events is not None:
                self._emit(events)
                self.observer.on_state(self.chain.state())

    def stats(self) -> dict:
        figures = self.health.stats(self.capture, self._dropped(), self.counter.total)
        if self.rest is not None:
            figures["resting"] = self.rest.resting
        return figures

    def _dropped(self) -> int:
        return self.ring.dropped if self.ring is not None else 0

    def source_state(self) -> str:
        return self.health.source_state(self.capture)

    def _emit(self, events: list[Event]) -> None:
        for e in events:
            e = self.numbering(e)
            if isinstance(e, PartialRepEvent):
                self.health.partial += 1
            self.observer.on_event(e)

    def _consume(self, res: Result) -> None:
        self.health.inferred(len(res.ids), res.latency_s)
        for i, fid in enumerate(res.ids):
            t = self._time(int(fid), float(res.times[i]))
            self._last_t, self._last_frame = t, int(fid)
            feats = res.feats[i] if res.feats is not None else None
            pose, canvas = self._poses.pop(int(fid), (None, None))
            landmarks = pose.landmarks if pose is not None and pose.found else None
            if int(fid) in self._woken:
                self._woken.discard(int(fid))
                self.chain.after_rest()
            vote, events = self.chain.step(res.probs[i], feats, t, int(fid), landmarks)
            if vote.changed:
                log.debug("frame %d (%.2f s): phase %s", fid, t, vote.phase)
            self._emit(events)
            if vote.changed or events:
                self.observer.on_state(self.chain.state())
            pixels = res.frames[i] if res.frames is not None else None
            if canvas is not None:
                pixels = canvas  # the stage's picture, where its skeleton is drawn
            self.observer.on_frame(FrameView(int(fid), t, pixels, res.probs[i], feats, vote, self.counter, pose))

    # -- restarting one stage (a reload) ---------------------------------------------------------

    def reconfigure(self, cfg: Config, stats_interval_s: float | None = None) -> None:
        """New thresholds at once (the counts stay); a new source, frame rate or pose stage restarts capture.
        ``stats_interval_s``: as the constructor's (the runner's, kept where not given)."""
        old, self.cfg = self.cfg, cfg
        if stats_interval_s is not None:
            self.stats_interval_s = stats_interval_s
        self.chain.reconfigure(cfg)
        if cfg.rest != old.rest:  # at once: the next frame is inferred as the new rest says
            self._open_rest()
            if self.capture is not None:
                self.capture.rest_fps = None
        self._pose_changed = self._pose_changed or cfg.pose != old.pose
        if cfg.source != old.source or cfg.pipeline != old.pipeline or cfg.pose != old.pose:
            self.replace_source(cfg.source)

    def replace_source(self, cfg: SourceConfig) -> None:
        """Restart capture on a new source once the frames already in the ring are counted."""
        self._next_source = cfg
        if self.capture is not None:
            self.capture.stop()

    def replace_model(self, classifier: Classifier) -> None:
        """Swap in a compiled model: at once if it takes the same frames, else with a new ring and capture."""
        if classifier.takes() == self.classifier.takes():
            self._swap_classifier(classifier)
        else:
            self._next_classifier = classifier
            self.replace_source(self._next_source or self.cfg.source)

    def _swap_classifier(self, classifier: Classifier) -> None:
        for res in self.classifier.results(wait=True):
            self._consume(res)
        self.chain.set_model(classifier.labels, classifier.feature_dim)
        # the stage goes on or off with the classifier's need of it
        self._pose_changed = self._pose_changed or classifier.uses_pose != self.classifier.uses_pose
        self.classifier = classifier

    def _start_capture(self, cfg: SourceConfig) -> Capture:
        first_id = 0
        if self.capture is not None:
            first_id = int(self.capture.first_id + self.capture.stats.frames)
            self.health.retire(self.capture, self._dropped())
            self.ring = self._new_ring()
            self.chain.new_source()
        assert self.ring is not None, "start() made it"
        if self.pose is not None:
            self.pose.reset()  # a new source: whoever was tracked is gone
        if self.rest is not None:
            self.rest.reset()
        self.classifier.reset()
        canvas = self._canvas()
        side = canvas if self._canvas_beside else None
        cap = Capture(cfg, self.ring, self.classifier.picture(canvas), side, first_id, self.cfg.pipeline.infer_fps)
        cap.start()
        self.capture = cap
        self._media_fps = cap.stats.fps if not cap.src.live else None
        self._id_base, self._t_base = first_id, self._last_t
        return cap

    def _restart_stage(self, cfg: SourceConfig) -> Capture:
        """The old capture has ended and its frames are counted: start the next model and source."""
        if self._next_classifier is not None:
            self._swap_classifier(self._next_classifier)
            self._next_classifier = None
        if self._pose_changed:  # the old stage's frames are all counted: open the new one (and a ring of its size)
            self._open_pose()
            self._pose_changed = False
        try:
            cap = self._start_capture(cfg)
        except UserError as e:  # e.g. a file that vanished: the daemon cannot go on without a source
            raise UserError(f"new source {cfg.uri}: {e}") from None
        log.info("source restarted: %s", cfg.uri)
        return cap

    def run(self) -> Summary:
        """Run until the source ends (a file) or ``stop()`` is called; returns the summary."""
        if self.ring is None:
            self.start()
        assert self.ring is not None
        self.health = Health()
        capture = self._start_capture(self.cfg.source)
        next_stats = self.health.t0 + (self.stats_interval_s or 0.0)
        ready = False
        try:
            while True:
                now = time.monotonic()
                self.observer.on_tick(now)
                self.classifier.keep_frames = self.observer.wants_frames  # the live page's picture comes and goes
                if self._stop.is_set():
                    capture.stop()
                if not self._commands.empty():
                    self._apply_commands()
                if self.stats_interval_s is not None and now >= next_stats:
                    self.observer.on_stats(self.stats())
                    next_stats = now + self.stats_interval_s
                # the stage and a classifier of its landmarks are done with a frame before the next read (an image
                # classifier's requests run on while the next frames are read, and the page may keep a frame)
                views = self.classifier.uses_pose and not self.observer.wants_frames
                batch = self.ring.read(self.classifier.batch, timeout=0.05, copy=not views)
                if batch is not None:
                    if not ready:
                        self.observer.on_ready()
                    ready = True
                    if self._rested(batch):
                        self.health.rested += 1
                    else:
                        if self.pose is not None:
                            self._track(batch)
                        self._submit(batch)
                for res in self.classifier.results():
                    self._consume(res)
                if batch is None and self.ring.drained:
                    if self._next_source is None or self._stop.is_set() or capture.stats.error:
                        break
                    next_source, self._next_source = self._next_source, None
                    capture = self._restart_stage(next_source)
            for res in self.classifier.results(wait=True):
                self._consume(res)
        finally:
            capture.stop()
            capture.join(timeout=5)
        if capture.stats.error:
            raise UserError(f"capture failed: {capture.stats.error}")
        read, declared = capture.stats.frames, capture.stats.declared
        if not capture.src.live and read == 0 and not self._stop.is_set():
            raise UserError(f"cannot decode video {capture.cfg.uri}: no frame could be read")
        if declared and read < PARTLY_DECODED * declared and not self._stop.is_set():  # a stop asked for is no damage
            log.warning("%s: decoded %d of the %d frames the file declares: it is damaged or cut short, and what "
                        "followed is not counted", capture.cfg.uri, read, declared)
        last_t = self._last_t if self._media_fps else time.monotonic() - self.health.t0
        self._emit(self.chain.stop(last_t, self._last_frame))
        self.observer.on_state(self.chain.state())  # the retained state says the set ended
        return Summary(total=self.counter.total, by_exercise=dict(self.counter.by_exercise), partial=self.health.partial,
                       frames=self.health.frames, frames_read=int(capture.first_id + capture.stats.frames),
                       frames_declared=capture.stats.declared,
                       dropped=self.health.dropped(self._dropped()), reconnects=self.health.reconnects(capture),
                       wall_s=time.monotonic() - self.health.t0, infer_latency_ms=self.health.latency_ms,
                       pose_ms=self.health.pose_ms,
                       pose_found=self.health.pose_found / self.health.posed_frames if self.health.posed_frames else None,
                       rested=self.health.rested)

