"""``homegym run``: the pipeline on the live source, its events to MQTT through the outbox, under systemd.

Today's totals come back from the state store after a restart (MQTT on or off). systemd hears READY=1 once
the model is compiled and the first frame has arrived, WATCHDOG=1 from the
pipeline's own loop, STATUS= lines with fps and counts, and STOPPING=1 on SIGTERM;
SIGTERM or SIGINT then stops capture, finishes the frames in flight, flushes the
outbox as far as the broker allows and publishes ``offline``. SIGHUP reloads the
config in the pipeline's thread: thresholds and MQTT at once, the source or the
model by restarting that stage, and an invalid file is rejected with one log line.
With ``live.enabled`` the live page (``live.view``, ``live.server``) runs beside it.
"""

from __future__ import annotations

import datetime
import logging
import math
import time
from collections import deque
from concurrent.futures import Future
from pathlib import Path

from homegym.core.errors import UserError

from ..classify.factory import hint_for, open_model
from ..config import settings as config_mod
from ..config.settings import Config
from ..counting.events import Event, RepEvent, SetEndEvent
from ..delivery import history
from ..delivery.mqtt import Publisher, check_files
from ..delivery.outbox import Outbox
from ..delivery.state import StateStore
from ..live.access import load_token, page_url, qr_code
from ..live.server import LiveServer
from ..live.view import LAST_SETS, LiveView, set_row
from ..pipeline.health import Counts, Summary
from ..pipeline.observer import FrameView, Observer
from ..pipeline.pipeline import Pipeline
from ..pipeline.sequence import RunNumbering
from .preflight import check_labels, check_source, preflight
from .signals import Signals
from .systemd import Notifier

log = logging.getLogger(__name__)
STATUS_EVERY_S = 5.0
RETRY_WRITE_S = 2.0  # how often writes the disk refused are tried again
LIVE_HEALTH_S = 1.0  # the live page's health figures while a page is open (a few reads and a COUNT on the outbox);
# with none open, every STATUS_EVERY_S, for homegym status
START_EXTEND_S = 30.0  # while alive and waiting for the first frame, keep systemd's start timeout this far ahead


def today() -> str:
    return datetime.date.today().isoformat()


class Service(Observer):
    """The pipeline's observer when it runs as the daemon: totals to the state store, events to MQTT, systemd told.

    The constructor only sets fields. ``start()`` opens the stores, compiles the model, starts the live page and
    MQTT, in that order, and a failure on the way stops whatever had started; ``run()`` counts until the source
    ends or a stop is requested; ``stop()`` ends everything in the reverse order."""

    def __init__(self, cfg: Config, config_path: Path | None = None, model: Path | None = None,
                 notifier: Notifier | None = None, log_level_fixed: bool = False) -> None:
        self.cfg = cfg
        self.config_path = config_path
        self.model_override = model
        self.log_level_fixed = log_level_fixed  # --log-level on the command line wins over the config
        self.notify = notifier or Notifier()
        self.state_store: StateStore | None = None
        self.outbox: Outbox | None = None
        self.publisher: Publisher | None = None
        self.live: LiveView | None = None
        self.live_server: LiveServer | None = None
        self.pipe: Pipeline | None = None
        self._run_numbering = RunNumbering()  # events' seq while there is no outbox (MQTT off)
        self._reload_requested = False
        self.reload_error: str | None = None  # why the last reload was refused (homegym status says it)
        self._stop_requested = False
        self._ready = False
        self._next_status = 0.0
        self._next_retry = 0.0
        self._deletions: deque[tuple[int, Future]] = deque()  # sets to forget, from the page's thread
        self._summary: dict = {}  # the history's summary (weeks, bests, last set), made at start and after each set
        self._status_frames = 0
        self._status_t = time.monotonic()
        self._live_at = 0.0  # when the live page's health was last refreshed
        self._live_counts: Counts | None = None

    # -- lifecycle ---------------------------------------------------------------------------------

    def start(self) -> None:
        cfg = self.cfg
        try:
            preflight(cfg, self.model_override)
            self.state_store = StateStore(cfg.state.path() / "state.sqlite3").open()
            if cfg.mqtt.enabled:
                self.outbox = self._open_outbox(cfg)
            classifier = open_model(cfg.model, self.model_override, hint_for(cfg.source))
            self.pipe = pipe = Pipeline(cfg, classifier, self, clock=today, stats_interval_s=cfg.mqtt.stats_interval_s,
                                        numbering=self._number)
            pipe.start()
            self._live_counts = pipe.health.counts()
            pipe.restore_totals(self.state_store.totals(pipe.totals().day or today()))
            log.info("today's totals so far: %s", pipe.totals().by_exercise)
            self._summary = self._history_summary()  # the page's and gym/history's, until a set ends or is deleted
            if cfg.live.enabled:  # before MQTT: a port that is taken stops the start before MQTT connects
                self._start_live(cfg)
            if self.outbox is not None:
                log.info("outbox: last seq %d, %d undelivered", self.outbox.last_seq, self.outbox.pending_count())
                self._start_publisher(cfg, self.outbox)
        except BaseException:
            self.stop()
            raise

    def run(self) -> Summary:
        """Count until the source ends or a stop is requested (``start()`` first where nobody did), then stop."""
        try:
            if self.pipe is None:
                self.start()
            if self._stop_requested:  # asked for while starting
                self._pipe.stop()
            return self._pipe.run()
        finally:
            self.stop()

    def stop(self) -> None:
        """Everything that started, stopped in the reverse order (safe to call twice, or after a failed start)."""
        self._stop_live()
        if self.publisher is not None:
            self.publisher.stop()
            self.publisher = None
        if self.outbox is not None:
            self.outbox.close()
            self.outbox = None
        if self.state_store is not None:
            self.state_store.close()
            self.state_store = None
        self.notify.close()

    # -- wiring ------------------------------------------------------------------------------------

    def _number(self, event: Event) -> Event:
        """Each event's ``seq``, once: the outbox's persistent numbers (it keeps a published event as it numbers it),
        or the run's own while MQTT is off."""
        return self.outbox.record(event) if self.outbox is not None else self._run_numbering(event)

    def _open_outbox(self, cfg: Config) -> Outbox:
        """The outbox, numbering on from the highest ``seq`` either store has seen (one may have been emptied)."""
        store = self.state_store
        assert store is not None, "opened first"
        outbox = Outbox(cfg.state.path() / "outbox.sqlite3", cfg.state.outbox_max_events, cfg.state.outbox_max_age_days * 86400,
                        cfg.state.max_unwritten).open()
        outbox.go_on_from(store.last_seq, str(store.path))
        if store.found_empty and outbox.last_seq:
            log.warning("%s was empty or missing, but the outbox has numbered %d events: it was emptied or replaced, and "
                        "today's totals start again from 0", store.path, outbox.last_seq)
        return outbox

    def _start_publisher(self, cfg: Config, outbox: Outbox) -> None:
        assert self.pipe is not None
        pipe = self.pipe
        publisher = Publisher(cfg.mqtt, outbox, on_command=pipe.command, exercises=lambda: pipe.counter.exercises)
        publisher.state(pipe.state())
        publisher.history(self._summary)
        publisher.start()
        self.publisher = publisher

    def _start_live(self, cfg: Config) -> None:
        """The live page: listening, or a UserError saying why not."""
        assert self.pipe is not None and self.state_store is not None
        pipe = self.pipe
        token = load_token(cfg, create=True)
        view = LiveView(cfg.live, lambda: pipe.letterbox, self.state_store.last_sets(LAST_SETS))
        view.delete_set = self.request_delete
        view.on_state(pipe.state())
        view.on_history(self._summary)
        server = LiveServer(cfg.live, view, token)
        server.start()
        self.live, self.live_server = view, server
        url = page_url(cfg, token)
        if token is None:
            log.info("live page: %s (this box only: live.host %s)", url, cfg.live.host)
        else:
            log.info("live page: %s (homegym status shows this again)\n%s", url, qr_code(url))

    def _stop_live(self) -> None:
        if self.live_server is not None:
            self.live_server.stop()
        self.live, self.live_server = None, None

    def _live_health(self) -> dict:
        """The live page's health: the source, the rates since the last refresh, MQTT and the outbox."""
        assert self.pipe is not None and self._live_counts is not None
        counts = self.pipe.health.counts()
        recent, self._live_counts = counts.since(self._live_counts), counts
        mqtt = "off" if self.publisher is None else "connected" if self.publisher.connected.is_set() else "disconnected"
        return {"source": self.pipe.source_state(), **recent, "mqtt": mqtt,
                "outbox": self.outbox.pending_count() if self.outbox is not None and self.publisher is not None else None,
                "unwritten": self.unwritten, "reload_error": self.reload_error}

    # -- the pipeline's observer (called only while it runs, so after start()) ---------------------------

    @property
    def _pipe(self) -> Pipeline:
        assert self.pipe is not None, "start() made it"
        return self.pipe

    @property
    def wants_frames(self) -> bool:  # type: ignore[override]
        return self.live is not None and self.live.wants_frames

    def on_frame(self, frame: FrameView) -> None:
        if self.live is not None:
            self.live.on_frame(frame)

    def on_event(self, event: Event) -> None:
        totals = self._pipe.totals()
        store = self.state_store
        assert store is not None
        if isinstance(event, (RepEvent, SetEndEvent)) and totals.day:
            finished = set_row(event) if isinstance(event, SetEndEvent) and event.reps else None
            store.save(totals.day, totals.by_exercise if isinstance(event, RepEvent) else None, finished, event.seq or 0)
            if finished is not None:
                self._history_changed()
        if self.publisher is not None:
            self.publisher.handle(event)
        log.info("%s", event.to_json())

    def on_state(self, state: dict) -> None:
        if self.publisher is not None:
            self.publisher.state(state)
        if self.live is not None:
            self.live.on_state(state)

    def on_stats(self, stats: dict) -> None:
        if self.publisher is not None:
            self.publisher.stats(dict(stats, unwritten=self.unwritten))

    # -- systemd -----------------------------------------------------------------------------------

    def on_ready(self) -> None:
        self._ready = True
        log.info("ready: first frame from %s", self.cfg.source.uri)
        self.notify.ready(self._status_line(time.monotonic()))

    def on_tick(self, now: float) -> None:
        """Every turn of the pipeline's loop: the watchdog ping, the status line, a pending reload."""
        self.notify.watchdog(now)
        while self._deletions:
            self._delete(*self._deletions.popleft())
        if now >= self._next_retry:
            self._next_retry = now + RETRY_WRITE_S
            self._retry_writes()
        if self._reload_requested:
            self._reload_requested = False
            self.reload()
        if self.live is not None and now - self._live_at >= (LIVE_HEALTH_S if self.live.listening else STATUS_EVERY_S):
            self._live_at = now
            self.live.health(self._live_health())
        if now >= self._next_status:
            self._next_status = now + STATUS_EVERY_S
            if self._ready:
                self.notify.status(self._status_line(now))
            else:
                self.notify.extend_start(START_EXTEND_S)
                self.notify.status(self._waiting_line())

    def request_delete(self, set_id: int) -> Future:
        """From another thread (the page's): forget a set in the pipeline's thread; the future holds it, or None."""
        future: Future = Future()
        self._deletions.append((set_id, future))
        return future

    def _delete(self, set_id: int, future: Future) -> None:
        """The set goes from the history and its reps from its day's totals; today's count follows at once."""
        assert self.state_store is not None
        try:
            gone = self.state_store.delete_set(set_id)
        except Exception as e:  # a full disk: the page says so, counting goes on
            future.set_exception(e)
            return
        pipe = self._pipe
        if gone is not None and gone["day"] == pipe.totals().day:
            pipe.restore_totals(self.state_store.totals(gone["day"]))
            self.on_state(pipe.state())
        self._history_changed()
        future.set_result(gone)

    def _history_summary(self) -> dict:
        """The weeks, bests and last set (``history.summary``) from the store's whole history."""
        store = self.state_store
        assert store is not None
        return history.summary(store.days(), store.sets(), self._pipe.totals().day or today())

    def _history_changed(self) -> None:
        """The last sets and the history's summary to the page and to the retained gym/history."""
        store = self.state_store
        assert store is not None
        self._summary = summary = self._history_summary()
        if self.live is not None:
            self.live.on_sets(store.last_sets(LAST_SETS))
            self.live.on_history(summary)
        if self.publisher is not None:
            self.publisher.history(summary)

    def _retry_writes(self) -> None:
        for store in (self.outbox, self.state_store):
            if store is not None and store.unwritten:
                store.retry()

    @property
    def unwritten(self) -> int:
        """Events and totals counted but not on disk yet (the disk refused them): lost with a SIGKILL."""
        return sum(store.unwritten for store in (self.outbox, self.state_store) if store is not None)

    def _waiting_line(self) -> str:
        """The status while there is no frame yet: a camera that is not there says so, instead of 'activating' alone."""
        line = f"waiting for the first frame from {self.cfg.source.uri}"
        cap = self._pipe.capture
        if cap is not None and cap.stats.failed_opens:
            line += (f": not there yet ({cap.stats.failed_opens} attempts; the next in {cap.stats.retry_in_s:.0f} s; "
                     "journalctl -u homegym says why)")
        return line

    def _status_line(self, now: float) -> str:
        pipe = self._pipe
        frames = pipe.health.frames
        fps = (frames - self._status_frames) / max(now - self._status_t, 1e-6)
        self._status_frames, self._status_t = frames, now
        c = pipe.totals()
        per = ", ".join(f"{ex} {n}" for ex, n in c.by_exercise.items())
        line = f"{fps:.1f} fps inferred; {c.total} reps today ({per}); source {pipe.source_state()}"
        if self.publisher is not None:
            line += f"; mqtt {'connected' if self.publisher.connected.is_set() else 'disconnected'}"
        unwritten = self.unwritten
        if unwritten:
            line += f"; {unwritten} events not yet on disk"
        return line

    # -- signals: flags the pipeline's next loop turn acts on ---------------------------------------

    def request_reload(self) -> None:
        """Safe from a signal handler."""
        self._reload_requested = True

    def request_stop(self) -> None:
        """Safe from a signal handler: capture stops, the frames in flight are counted, then ``run`` stops the rest."""
        self._stop_requested = True
        self.notify.stopping()
        if self.pipe is not None:
            self.pipe.stop()

    def reload(self) -> None:
        """Re-read the config; validate and build everything new first, then apply it, or keep the old."""
        where = str(self.config_path) if self.config_path else "the built-in defaults"
        pipe = self._pipe
        self.notify.reloading()
        try:
            new = config_mod.load(self.config_path)
            old = self.cfg
            classifier = open_model(new.model, self.model_override, hint_for(new.source)) if new.model != old.model else None
            check_labels((classifier or pipe.classifier).labels, new)  # an exercise the model lacks: refused here
            if new.mqtt != old.mqtt and new.mqtt.enabled:
                check_files(new.mqtt)
            if new.source != old.source:
                check_source(new)  # a file that is not there would end the daemon once capture restarts on it
        except Exception as e:  # whatever the file holds, the daemon counts on with the old config
            why = "; ".join(str(e).splitlines()) if isinstance(e, UserError | OSError) else f"{type(e).__name__}: {e}"
            self.reload_error = why[:500]
            self._live_at = -math.inf  # homegym status and the page say so at the next loop turn, not a refresh later
            log.error("reload of %s rejected, the running config stays: %s", where, self.reload_error)
            self.notify.ready(self._status_line(time.monotonic()) + "; the last reload was refused")
            return
        self.reload_error = None
        self._live_at = -math.inf
        try:
            self._apply(new, classifier, where)
        finally:
            self.notify.ready(self._status_line(time.monotonic()))

    def _apply(self, new: Config, classifier, where: str) -> None:
        """A checked config applied: each stage it changes restarted, the rest kept."""
        pipe, old = self._pipe, self.cfg
        changed = [name for name in Config.model_fields if getattr(new, name) != getattr(old, name)]
        if not changed:
            log.info("reload of %s: nothing changed", where)
            return
        counted = pipe.counter.exercises
        pipe.reconfigure(new, stats_interval_s=new.mqtt.stats_interval_s)
        if new.mqtt != old.mqtt:
            self._reload_mqtt(new)
        elif self.publisher is not None and pipe.counter.exercises != counted:
            self.publisher.announce()  # Home Assistant's sensors follow the exercises counted
        if classifier is not None:
            pipe.replace_model(classifier)
        if new.logging.level != old.logging.level and not self.log_level_fixed:
            logging.getLogger().setLevel(new.logging.level.upper())
        if new.state != old.state:
            log.warning("reload: state.* applies at the next start")
        if new.live != old.live:
            self._stop_live()
            if new.live.enabled:
                try:
                    self._start_live(new)
                except UserError as e:
                    log.error("reload: the live page is off until this is fixed: %s", e)
        self.cfg = new
        log.info("reload of %s applied: %s changed", where, ", ".join(changed))

    def _reload_mqtt(self, new: Config) -> None:
        """The old connection ends (flushing what it can), then a new one starts with the same outbox."""
        if self.publisher is not None:
            self.publisher.stop(flush_timeout_s=1.0)
            self.publisher = None
        if not new.mqtt.enabled:
            return
        try:
            if self.outbox is None:
                self.outbox = self._open_outbox(new)
            self._start_publisher(new, self.outbox)
        except UserError as e:
            log.error("reload: MQTT is off until this is fixed: %s", e)


def run(cfg: Config, config_path: Path | None = None, model: Path | None = None, log_level_fixed: bool = False,
        signals: Signals | None = None) -> Summary:
    """The daemon; ``signals`` installed by the caller as early as it can (before this module's imports)."""
    service = Service(cfg, config_path, model, log_level_fixed=log_level_fixed)
    if signals is not None:
        signals.attach(service)
    return service.run()
