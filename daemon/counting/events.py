"""What the counter emits: rep, partial-rep and set-end events, as JSON with a schema version.

Each field has one owner. The counter makes an event whole but for ``seq``; the pipeline
numbers it once (``pipeline.sequence``: the outbox's persistent numbers under ``homegym
run`` with MQTT, the run's own otherwise) and hands the numbered event on. Events are
frozen: nobody downstream changes them. docs/mqtt.md's payload reference is rendered
from these models (``markdown_reference``), and a test holds the two equal.
"""

from __future__ import annotations

import json
import time
from types import NoneType, UnionType
from typing import Any, Literal, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, field_serializer

SCHEMA = 1


class Event(BaseModel):
    """Every event's envelope."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    schema_version: int = Field(SCHEMA, alias="schema", description="payload schema: fields are only added within a version")
    type: str = Field("event", description="what happened")
    t: float = Field(description="seconds into the session (a file's media time, or since the daemon started)")
    frame: int = Field(description="the source's frame at which the counter decided")
    ts: float = Field(default_factory=time.time, description="wall clock, Unix seconds")
    seq: int | None = Field(None, description="only grows, across restarts too (the outbox keeps it): drop a repeated one; "
                            "a published event always has one")

    @field_serializer("t", "ts")
    def _ms(self, v: float) -> float:
        return round(v, 3)

    def numbered(self, seq: int) -> Event:
        """The same event with its ``seq`` (the pipeline's one numbering)."""
        return self.model_copy(update={"seq": seq})

    def _unset(self) -> set[str]:
        """Measures nobody set: left out of the payload, so an event without them is what a schema-1 subscriber knew."""
        return {n for n in type(self).model_fields if n in OPTIONAL and n not in self.model_fields_set}

    def to_dict(self) -> dict[str, Any]:
        """The payload: the envelope first, then the event's own fields, then its measures (the order a log reads)."""
        d = self.model_dump(mode="json", by_alias=True, exclude=self._unset())
        return dict(sorted(d.items(), key=lambda kv: (kv[0] not in ENVELOPE, kv[0] in OPTIONAL)))

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), separators=(",", ":"), ensure_ascii=False)


class Shortfall(BaseModel):
    """A threshold of form.full a rep did not reach."""

    model_config = ConfigDict(frozen=True)

    key: str = Field(description="form.full's key, e.g. thigh_min")
    value: float = Field(description="what the rep reached, in degrees")
    limit: float = Field(description="what a full rep reaches")


class Measured(BaseModel):
    """A rep's measures (daemon/counting/form.py): optional fields, null where not measured (``unmeasured`` says why),
    absent from an older daemon's events."""

    model_config = ConfigDict(frozen=True)

    turn_t: float | None = Field(None, description="when the rep turned (the middle of a hold there), seconds as `t`")
    to_turn_s: float | None = Field(None, description="tempo: seconds from leaving the start position to the turn")
    hold_s: float | None = Field(None, description="tempo: seconds held at the turn")
    back_s: float | None = Field(None, description="tempo: seconds from the turn back to the start position")
    joint: str | None = Field(None, description="the joint whose angle is the range of motion: knee (squat, lunge), elbow "
                              "(push-up, pull-up, curl, press), hip (sit-up), shoulder (jumping jack)")
    start_deg: float | None = Field(None, description="range of motion: the joint's angle at the start, degrees (180 = straight)")
    turn_deg: float | None = Field(None, description="range of motion: the joint's angle at the turn")
    travel_deg: float | None = Field(None, description="range of motion: degrees travelled from the start to the turn (also "
                                     "where it moved too little to time)")
    full: bool | None = Field(None, description="every threshold of form.full reached; null where one could not be measured")
    short: list[Shortfall] = Field(default_factory=list, description="the thresholds missed: key, value, limit")
    unmeasured: str | None = Field(None, description="what could not be measured and why (a joint not seen)")


class RepEvent(Event, Measured):
    """A counted rep (``gym/reps``)."""

    type: Literal["rep"] = "rep"
    exercise: str = Field("", description="the exercise the rep was counted as")
    rep: int = Field(0, description="its number in the set, from 1")
    set: int = Field(0, description="the set's number, from 1")
    total: int = Field(0, description="today's running total of every exercise")
    exercise_total: int = Field(0, description="today's running total of this exercise")
    confidence: float = Field(0.0, description="mean smoothed probability of the voted phases during the rep")
    duration_s: float = Field(0.0, description="seconds from leaving the start position to being back")


class PartialRepEvent(Event, Measured):
    """A movement that left the start position and came back without a rep (``gym/partials``)."""

    type: Literal["partial"] = "partial"
    exercise: str = Field("", description="the exercise it was a part of")
    set: int = Field(0, description="the set's number (0: no set yet)")
    reason: str = Field("", description="no_down (never reached the turn point), too_fast, too_slow, short (a whole rep "
                        "short of form.full, with form.count_short false: `short` says which threshold), still (its joint moved less than "
                        "counter.min_travel_deg: a held plank's or a pose's flicker, `travel_deg` says how far), "
                        "legs_still (its legs did not open counter.min_legs_deg: a raise taken for a jumping jack), "
                        "alone (a rep of a set that ended short of counter.min_set_reps)")
    depth: float = Field(0.0, description="the highest smoothed probability of the turn point seen")
    duration_s: float = Field(0.0, description="seconds away from the start position")


class SetMeasures(BaseModel):
    """A set's averages of its reps' measures: optional fields, absent where the reps were not measured."""

    full_reps: int | None = Field(None, description="reps judged full (form.full), of those whose depth could be told")
    avg_to_turn_s: float | None = Field(None, description="mean to_turn_s of the reps measured")
    avg_hold_s: float | None = Field(None, description="mean hold_s")
    avg_back_s: float | None = Field(None, description="mean back_s")
    avg_turn_deg: float | None = Field(None, description="mean turn_deg")
    avg_travel_deg: float | None = Field(None, description="mean travel_deg")


class SetEndEvent(Event, SetMeasures):
    """A set ended (``gym/sets``)."""

    type: Literal["set_end"] = "set_end"
    exercise: str = Field("", description="the set's exercise")
    set: int = Field(0, description="the set's number")
    reps: int = Field(0, description="reps in the set")
    duration_s: float = Field(0.0, description="seconds from the first rep's start to the last rep's end")
    avg_rep_s: float = Field(0.0, description="mean rep duration")
    reason: str = Field("", description="pause (counter.set_timeout_s), exercise_change, reset (a command), stop")
    partials: int = Field(0, description="movements of the set's exercise during the set that came back without a rep (gym/partials)")


OPTIONAL = frozenset(Measured.model_fields) | frozenset(SetMeasures.model_fields)  # absent unless the counter set them
ENVELOPE = frozenset(f.alias or n for n, f in Event.model_fields.items())
PUBLISHED: dict[str, type[Event]] = {"reps": RepEvent, "sets": SetEndEvent, "partials": PartialRepEvent}  # topic -> event


def topic_of(event: Event) -> str | None:
    """The topic (under the prefix) an event is published on; None: the log only."""
    return next((topic for topic, kind in PUBLISHED.items() if isinstance(event, kind)), None)


def _type_name(annotation: Any) -> str:
    """A field's JSON type in words: "number or null", "list of {key, value, limit}"."""
    if isinstance(annotation, UnionType):
        return " or ".join(_type_name(a) if a is not NoneType else "null" for a in get_args(annotation))
    if get_origin(annotation) is list:
        item = get_args(annotation)[0]
        return "list of {" + ", ".join(item.model_fields) + "}"
    return {int: "integer", float: "number", str: "string", bool: "boolean"}.get(annotation, "integer")


def markdown_reference() -> str:
    """docs/mqtt.md's payload reference: every published event's fields, from the models above."""
    lines = ["<!-- payloads: rendered from daemon/counting/events.py by events.markdown_reference(); a test holds them equal -->"]
    for topic, kind in PUBLISHED.items():
        lines += ["", f"### `<prefix>/{topic}`: {kind.__doc__.split('(')[0].strip().rstrip('.') if kind.__doc__ else ''}", "",
                  "| field | type | meaning |", "| --- | --- | --- |"]
        fields = kind.model_fields
        order = sorted(fields, key=lambda n: (n not in Event.model_fields, n in OPTIONAL))  # as to_dict orders them
        for name, f in ((n, fields[n]) for n in order):
            key = f.alias or name
            typ = _type_name(f.annotation)
            if key == "type":
                typ, meaning = "string", f"`{f.default}`"
            else:
                meaning = f.description or ""
            lines.append(f"| `{key}` | {typ} | {meaning} |")
    lines.append("<!-- end payloads -->")
    return "\n".join(lines)
