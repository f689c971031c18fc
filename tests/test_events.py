"""The events as subscribers see them: JSON of schema 1, numbered once, frozen; docs/mqtt.md's payload reference
rendered from the models; Home Assistant's discovery as a pure function of the config."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError
from support import ROOT

from homegym.daemon.config.settings import MqttConfig
from homegym.daemon.counting.events import PartialRepEvent, RepEvent, SetEndEvent, markdown_reference, topic_of
from homegym.daemon.delivery import discovery
from homegym.daemon.delivery.outbox import Outbox
from homegym.daemon.pipeline.sequence import RunNumbering


def _rep() -> RepEvent:
    return RepEvent(t=12.34567, frame=369, ts=1795467763.3333, exercise="pushup", rep=3, set=2, total=41, exercise_total=30,
                    confidence=0.91, duration_s=1.4)


def test_a_rep_event_is_the_schema_1_payload_subscribers_know() -> None:
    assert _rep().numbered(41).to_json() == (
        '{"schema":1,"type":"rep","t":12.346,"frame":369,"ts":1795467763.333,"seq":41,"exercise":"pushup","rep":3,"set":2,'
        '"total":41,"exercise_total":30,"confidence":0.91,"duration_s":1.4}')
    end = SetEndEvent(t=20.0, frame=600, ts=5.0, exercise="squat", set=1, reps=5, duration_s=10.0, avg_rep_s=2.0, reason="pause")
    assert list(json.loads(end.to_json())) == ["schema", "type", "t", "frame", "ts", "seq", "exercise", "set", "reps",
                                               "duration_s", "avg_rep_s", "reason"]


def test_events_are_frozen_and_numbered_once() -> None:
    e = _rep()
    with pytest.raises(ValidationError):
        e.seq = 3  # type: ignore[misc]
    numbering = RunNumbering()
    assert [numbering(x).seq for x in (e, e, PartialRepEvent(t=1.0, frame=1))] == [1, 2, 3] and e.seq is None


def test_the_outbox_numbers_published_events_and_keeps_them_as_numbered(tmp_path) -> None:
    box = Outbox(tmp_path / "outbox.sqlite3").open()
    try:
        partial = PartialRepEvent(t=1.0, frame=1)
        assert box.record(partial) is partial and topic_of(partial) is None, "the log's only: no number of the ones subscribers see"
        first, second = box.record(_rep()), box.record(SetEndEvent(t=2.0, frame=2, reps=1))
        assert (first.seq, second.seq) == (1, 2)
        assert [(p.suffix, json.loads(p.payload)) for p in box.pending()] == [("reps", first.to_dict()), ("sets", second.to_dict())]
    finally:
        box.close()


def test_docs_payload_reference_is_the_models_rendering() -> None:
    text = (ROOT / "docs" / "mqtt.md").read_text()
    start = text.index("<!-- payloads:")
    end = text.index("<!-- end payloads -->") + len("<!-- end payloads -->")
    assert text[start:end] == markdown_reference(), \
        "run: python -c 'from homegym.daemon.counting.events import markdown_reference as m; print(m())' and paste it"


def test_home_assistant_discovery_is_a_pure_function_of_the_config() -> None:
    cfg = MqttConfig(client_id="box1", topic_prefix="home/gym", ha_prefix="ha")
    topics = {k: f"home/gym/{k}" for k in ("reps", "state", "status")}
    msgs = dict(discovery.messages(cfg, topics))
    assert list(msgs) == ["ha/sensor/box1/total_today/config", "ha/sensor/box1/exercise/config", "ha/event/box1/rep/config"]
    total = json.loads(msgs["ha/sensor/box1/total_today/config"])
    assert total["state_topic"] == "home/gym/state" and total["availability_topic"] == "home/gym/status"
    assert total["unique_id"] == "homegym_sensor_box1_total_today" and total["device"]["identifiers"] == ["homegym_box1"]
    assert json.loads(msgs["ha/event/box1/rep/config"])["state_topic"] == "home/gym/reps"
    assert discovery.messages(cfg, topics) == discovery.messages(cfg, topics), "the same config, the same messages"
