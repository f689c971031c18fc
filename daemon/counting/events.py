"""What the counter emits: rep, partial-rep and set-end events, as JSON with a schema version.

Each field has one owner. The counter makes an event whole but for ``seq``; the pipeline
numbers it once (``pipeline.sequence``: the outbox's persistent numbers under ``homegym
run`` with MQTT, the run's own otherwise) and hands the numbered event on. Events are
frozen: nobody downstream changes them. docs/mqtt.md's payload reference is rendered
from these models (``markdown_reference``), and a test holds the two equal.
"""

from __future__ import annotations

import time
from typing import Any, Literal

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

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True)

    def to_json(self) -> str:
        return self.model_dump_json(by_alias=True)


class RepEvent(Event):
    """A counted rep (``gym/reps``)."""

    type: Literal["rep"] = "rep"
    exercise: str = Field("", description="the exercise the rep was counted as")
    rep: int = Field(0, description="its number in the set, from 1")
    set: int = Field(0, description="the set's number, from 1")
    total: int = Field(0, description="today's running total of every exercise")
    exercise_total: int = Field(0, description="today's running total of this exercise")
    confidence: float = Field(0.0, description="mean smoothed probability of the voted phases during the rep")
    duration_s: float = Field(0.0, description="seconds from leaving the start position to being back")


class PartialRepEvent(Event):
    """A movement that left the start position and came back without a rep (``gym/partials``)."""

    type: Literal["partial"] = "partial"
    exercise: str = Field("", description="the exercise it was a part of")
    set: int = Field(0, description="the set's number (0: no set yet)")
    reason: str = Field("", description="no_down (never reached the turn point), too_fast, too_slow")
    depth: float = Field(0.0, description="the highest smoothed probability of the turn point seen")
    duration_s: float = Field(0.0, description="seconds away from the start position")


class SetEndEvent(Event):
    """A set ended (``gym/sets``)."""

    type: Literal["set_end"] = "set_end"
    exercise: str = Field("", description="the set's exercise")
    set: int = Field(0, description="the set's number")
    reps: int = Field(0, description="reps in the set")
    duration_s: float = Field(0.0, description="seconds from the first rep's start to the last rep's end")
    avg_rep_s: float = Field(0.0, description="mean rep duration")
    reason: str = Field("", description="pause (counter.set_timeout_s), exercise_change, reset (a command), stop")
    partials: int = Field(0, description="movements of the set's exercise during the set that came back without a rep (gym/partials)")


PUBLISHED: dict[str, type[Event]] = {"reps": RepEvent, "sets": SetEndEvent, "partials": PartialRepEvent}  # topic -> event


def topic_of(event: Event) -> str | None:
    """The topic (under the prefix) an event is published on; None: the log only."""
    return next((topic for topic, kind in PUBLISHED.items() if isinstance(event, kind)), None)


def markdown_reference() -> str:
    """docs/mqtt.md's payload reference: every published event's fields, from the models above."""
    lines = ["<!-- payloads: rendered from daemon/counting/events.py by events.markdown_reference(); a test holds them equal -->"]
    for topic, kind in PUBLISHED.items():
        lines += ["", f"### `<prefix>/{topic}`: {kind.__doc__.split('(')[0].strip().rstrip('.') if kind.__doc__ else ''}", "",
                  "| field | type | meaning |", "| --- | --- | --- |"]
        for name, f in kind.model_fields.items():
            key = f.alias or name
            typ = {int: "integer", float: "number", str: "string"}.get(f.annotation, "integer")  # type: ignore[arg-type]
            if key == "type":
                typ, meaning = "string", f"`{f.default}`"
            else:
                meaning = f.description or ""
            lines.append(f"| `{key}` | {typ} | {meaning} |")
    lines.append("<!-- end payloads -->")
    return "\n".join(lines)
