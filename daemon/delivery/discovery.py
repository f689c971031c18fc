"""Home Assistant MQTT discovery: what the counter is to Home Assistant, as (topic, payload) messages.

A pure function of the config and the topics, so it is tested without a broker; the publisher
sends its messages retained on connect and whenever Home Assistant announces itself ``online``.
"""

from __future__ import annotations

import json

from homegym.core.exercises import EXERCISES

from ..config.settings import MqttConfig


def messages(cfg: MqttConfig, topic: dict[str, str], exercises: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """Today's total, a "reps today" and a "reps this week" sensor for each exercise counted, the current exercise, an
    event per rep, the last set (its reps, the rest as attributes) and when it ended (a timestamp: Home Assistant shows
    the rest time from it, nothing ticks on the broker), on one device, available while ``status`` is online; and an
    empty retained message for every other exercise's sensors, which removes them from Home Assistant (one switched
    off, or one a former model counted). ``topic``: the publisher's topics by name (``reps``, ``state``, ...)."""
    node = cfg.client_id
    device = {"identifiers": [f"homegym_{node}"], "name": "HomeGym Spotter", "model": "rep counter", "manufacturer": "HomeGym"}
    avail = {"availability_topic": topic["status"], "payload_available": "online", "payload_not_available": "offline"}
    entities: dict[str, dict[str, object]] = {
        f"sensor/{node}/total_today": {"name": "Reps today", "state_topic": topic["state"],
                                       "value_template": "{{ value_json.total_today }}",
                                       "unit_of_measurement": "reps", "state_class": "total_increasing", "icon": "mdi:dumbbell"},
        f"sensor/{node}/exercise": {"name": "Exercise", "state_topic": topic["state"],
                                    "value_template": "{{ value_json.exercise or 'none' }}",
                                    "icon": "mdi:human-handsup"},
        f"event/{node}/rep": {"name": "Rep", "state_topic": topic["reps"], "event_types": ["rep"],
                              "value_template": '{"event_type": "{{ value_json.type }}", '
                                                '"exercise": "{{ value_json.exercise }}", "total": {{ value_json.total }}}'},
        f"sensor/{node}/last_set": {"name": "Last set", "state_topic": topic["history"],
                                    "value_template": "{{ value_json.last_set.reps if value_json.last_set else 0 }}",
                                    "json_attributes_topic": topic["history"],
                                    "json_attributes_template": "{{ (value_json.last_set or {}) | tojson }}",
                                    "unit_of_measurement": "reps", "icon": "mdi:format-list-numbered"},
        f"sensor/{node}/last_set_end": {"name": "Last set ended", "state_topic": topic["history"], "device_class": "timestamp",
                                        "value_template": "{{ value_json.last_set.ended_at if value_json.last_set else None }}",
                                        "icon": "mdi:timer-sand"},
    }
    for ex in exercises:
        entities[f"sensor/{node}/{ex}_today"] = {
            "name": f"{ex.replace('_', ' ').capitalize()} reps today", "state_topic": topic["state"],
            "value_template": f"{{{{ value_json.today.{ex} | default(0) }}}}",
            "unit_of_measurement": "reps", "state_class": "total_increasing", "icon": "mdi:counter"}
        entities[f"sensor/{node}/{ex}_week"] = {
            "name": f"{ex.replace('_', ' ').capitalize()} reps this week", "state_topic": topic["history"],
            "value_template": f"{{{{ value_json.this_week.{ex} | default(0) }}}}",
            "unit_of_measurement": "reps", "state_class": "total_increasing", "icon": "mdi:calendar-week"}
    out = []
    for path, conf in entities.items():
        conf = dict(conf, unique_id=f"homegym_{path.replace('/', '_')}", device=device, **avail)
        out.append((f"{cfg.ha_prefix}/{path}/config", json.dumps(conf, sort_keys=True)))
    out += [(f"{cfg.ha_prefix}/sensor/{node}/{ex}_{when}/config", "") for ex in EXERCISES if ex not in exercises
            for when in ("today", "week")]
    return out
