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
                                               "duration_s", "avg_rep_s", "reason", "partials"]  # a new field goes last


def test_events_are_frozen_and_numbered_once() -> None:
    e = _rep()
    with pytest.raises(ValidationError):
        e.seq = 3  # type: ignore[misc]
    numbering = RunNumbering()
    assert [numbering(x).seq for x in (e, e, PartialRepEvent(t=1.0, frame=1))] == [1, 2, 3] and e.seq is None


def test_the_outbox_numbers_published_events_and_keeps_them_as_numbered(tmp_path) -> None:
    box = Outbox(tmp_path / "outbox.sqlite3").open()
    try:
        first, second = box.record(_rep()), box.record(SetEndEvent(t=2.0, frame=2, reps=1))
        partial = box.record(PartialRepEvent(t=3.0, frame=3, reason="no_down"))
        assert (first.seq, second.seq, partial.seq) == (1, 2, 3) and topic_of(partial) == "partials"
        assert [(p.suffix, json.loads(p.payload)) for p in box.pending()] == [("reps", first.to_dict()), ("sets", second.to_dict()),
                                                                              ("partials", partial.to_dict())]
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
    topics = {k: f"home/gym/{k}" for k in ("reps", "state", "status", "history")}
    msgs = dict(discovery.messages(cfg, topics, ("pushup", "jumping_jack")))
    sent = [t for t, p in msgs.items() if p]
    assert sent == ["ha/sensor/box1/total_today/config", "ha/sensor/box1/exercise/config", "ha/event/box1/rep/config",
                    "ha/sensor/box1/last_set/config", "ha/sensor/box1/last_set_end/config",
                    "ha/sensor/box1/pushup_today/config", "ha/sensor/box1/pushup_week/config",
                    "ha/sensor/box1/jumping_jack_today/config", "ha/sensor/box1/jumping_jack_week/config"]
    jacks = json.loads(msgs["ha/sensor/box1/jumping_jack_today/config"])
    assert jacks["name"] == "Jumping jack reps today" and "value_json.today.jumping_jack" in jacks["value_template"]
    # every other exercise's sensor is cleared by an empty retained message: switched off, or never counted
    assert sorted(t for t, p in msgs.items() if not p) == sorted(f"ha/sensor/box1/{ex}_{when}/config" for ex in
                                                                 ("squat", "lunge", "situp", "pullup", "curl", "shoulder_press")
                                                                 for when in ("today", "week"))
    week = json.loads(msgs["ha/sensor/box1/jumping_jack_week/config"])
    assert (week["state_topic"], week["state_class"], week["unit_of_measurement"]) == ("home/gym/history", "total_increasing", "reps")
    assert "value_json.this_week.jumping_jack" in week["value_template"] and week["availability_topic"] == "home/gym/status"
    end = json.loads(msgs["ha/sensor/box1/last_set_end/config"])
    assert end["device_class"] == "timestamp" and "unit_of_measurement" not in end
    total = json.loads(msgs["ha/sensor/box1/total_today/config"])
    assert total["state_topic"] == "home/gym/state" and total["availability_topic"] == "home/gym/status"
    assert total["unique_id"] == "homegym_sensor_box1_total_today" and total["device"]["identifiers"] == ["homegym_box1"]
    assert json.loads(msgs["ha/event/box1/rep/config"])["state_topic"] == "home/gym/reps"
    assert discovery.messages(cfg, topics) == discovery.messages(cfg, topics), "the same config, the same messages"


def test_counter_exercises_switch_an_exercise_off_and_name_the_key_when_the_model_lacks_one() -> None:
    from homegym.core.errors import UserError
    from homegym.core.labels import LabelSet
    from homegym.daemon.config.settings import CounterConfig, parse
    from homegym.daemon.counting.counter import RepCounter, counted_exercises

    labels = LabelSet.of(("neither", "pushup_up", "pushup_down", "squat_up", "squat_down"))
    assert counted_exercises(labels, CounterConfig()) == ("pushup", "squat")
    counter = RepCounter(labels, CounterConfig(exercises=["squat"]))
    assert counter.exercises == ("squat",) and counter.state()["today"] == {"squat": 0}
    with pytest.raises(UserError, match=r"^counter.exercises: lunge is not an exercise this model counts \(it counts pushup, squat\)$"):
        RepCounter(labels, CounterConfig(exercises=["squat", "lunge"]))
    with pytest.raises(UserError, match=r"counter.exercises: pushups is not an exercise \(choose from pushup, squat, lunge"):
        parse({"counter": {"exercises": ["pushups"]}})
