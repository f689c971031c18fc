"""``homegym run``: the pipeline on the live source, its events to MQTT through the outbox.

Today's totals come back from the store after a restart; SIGTERM or SIGINT stops
capture, finishes the frames in flight, flushes the outbox as far as the broker
allows and publishes ``offline``.
"""

from __future__ import annotations

import datetime
import logging
import signal
from pathlib import Path

from .config import Config
from .events import Event, RepEvent
from .outbox import Outbox
from .pipeline import Pipeline, Summary
from .publisher import Publisher

log = logging.getLogger(__name__)


def run(cfg: Config, model: Path | None = None) -> Summary:
    outbox = publisher = None
    if cfg.mqtt.enabled:
        outbox = Outbox(cfg.state.path() / "outbox.sqlite3", cfg.state.outbox_max_events, cfg.state.outbox_max_age_days * 86400)
        publisher = Publisher(cfg.mqtt, outbox)
    def sink(event: Event) -> None:
        if publisher is not None:
            if isinstance(event, RepEvent):
                outbox.save_totals(pipe.counter.day, pipe.counter.by_exercise)
            publisher.handle(event)  # gives the event its persistent seq
        log.info("%s", event.to_json())  # so the journal shows the seq the phone sees

    pipe = Pipeline(cfg, model, sink)
    pipe.counter.today = lambda: datetime.date.today().isoformat()
    pipe.counter.day = pipe.counter.today()
    if outbox is not None:
        pipe.counter.restore(outbox.totals(pipe.counter.day))
        log.info("today's totals so far: %s (outbox: last seq %d, %d undelivered)", pipe.counter.by_exercise,
                 outbox.last_seq, len(outbox.pending()))
        pipe.state_hook = publisher.state
        pipe.stats_hook = publisher.stats
        pipe.stats_interval_s = cfg.mqtt.stats_interval_s
        publisher.on_command = pipe.command
        publisher.state(pipe.counter.state())
        publisher.start()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: pipe.stop())
    try:
        summary = pipe.run(offline=False)
    finally:
        if publisher is not None:
            publisher.stop()
            outbox.close()
    return summary
