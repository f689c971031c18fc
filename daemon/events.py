"""What the counter emits: rep, partial-rep and set-end events, as JSON with a schema version.

``seq`` is given by the sink that publishes them (it only grows; the MQTT outbox
persists it across restarts so subscribers can de-duplicate).
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field

SCHEMA = 1


@dataclass
class Event:
    t: float  # seconds into the session (a file's media time, or since the daemon started)
    frame: int  # the frame at which the counter decided
    ts: float = field(default_factory=time.time)  # wall clock, Unix seconds
    seq: int | None = None

    type = "event"

    def to_dict(self) -> dict:
        d = {"schema": SCHEMA, "type": self.type}
        d.update(asdict(self))
        d["t"] = round(self.t, 3)
        d["ts"] = round(self.ts, 3)
        return d

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), separators=(",", ":"))


@dataclass
class RepEvent(Event):
    exercise: str = ""
    rep: int = 0  # number in the set, from 1
    set: int = 0  # set number, from 1
    total: int = 0  # running total of all exercises
    exercise_total: int = 0  # running total of this exercise
    confidence: float = 0.0  # mean smoothed probability of the voted phases during the rep
    duration_s: float = 0.0

    type = "rep"


@dataclass
class PartialRepEvent(Event):
    exercise: str = ""
    set: int = 0
    reason: str = ""  # "no_down" (never reached the bottom), "too_fast", "too_slow"
    depth: float = 0.0  # highest smoothed probability of the bottom phase seen
    duration_s: float = 0.0

    type = "partial"


@dataclass
class SetEndEvent(Event):
    exercise: str = ""
    set: int = 0
    reps: int = 0
    duration_s: float = 0.0
    avg_rep_s: float = 0.0
    reason: str = ""  # "pause", "exercise_change", "stop"

    type = "set_end"
