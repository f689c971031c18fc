"""The publisher against a real Mosquitto: message ids settled once, the whole backlog resent, the prefix of today
applied to what waits, and a failing callback that does not end delivery."""

from __future__ import annotations

import json
import logging
import time

import pytest
from support import Subscriber, wait_for

from homegym.daemon.config.settings import MqttConfig
from homegym.daemon.counting.events import RepEvent
from homegym.daemon.delivery.mqtt import Publisher
from homegym.daemon.delivery.outbox import Outbox
from homegym.measure.broker import Mosquitto, mosquitto_path

pytestmark = pytest.mark.skipif(mosquitto_path() is None, reason="mosquitto is not installed (.ci/run installs it)")


@pytest.fixture
def broker(tmp_path):
    (tmp_path / "broker").mkdir()
    with Mosquitto(tmp_path / "broker", persistence=False) as b:
        yield b


def _rep(n: int) -> RepEvent:
    return RepEvent(t=float(n), frame=n, exercise="pushup", rep=n, set=1, total=n, exercise_total=n, confidence=0.9, duration_s=1.0)


def _connected(cfg: MqttConfig, outbox: Outbox, **kw) -> Publisher:
    pub = Publisher(cfg, outbox, **kw)
    pub.start()
    assert pub.connected.wait(10)
    return pub


def test_qos0_messages_leave_no_message_id_behind(broker, tmp_path) -> None:
    """Stats go out at QoS 0: their ids must not linger as 'acknowledged', or after 65,535 publishes one would
    mark a new rep delivered without the broker's acknowledgement."""
    outbox = Outbox(tmp_path / "outbox.sqlite3").open()
    pub = _connected(MqttConfig(port=broker.port, client_id="t", ha_discovery=False), outbox)
    try:
        for i in range(3000):
            pub.stats({"i": i})
        pub.handle(outbox.record(_rep(1)))
        assert wait_for(lambda: outbox.pending_count() == 0, 10)
        assert wait_for(lambda: not pub._mids and not pub._early, 10), (len(pub._mids), len(pub._early))
    finally:
        pub.stop(flush_timeout_s=1)
        outbox.close()


def test_every_waiting_event_is_resent_after_a_connect(broker, tmp_path) -> None:
    outbox = Outbox(tmp_path / "outbox.sqlite3").open()
    for n in range(1, 2501):
        outbox.add("reps", lambda seq, n=n: json.dumps({"type": "rep", "seq": seq, "total": n}))
    phone = Subscriber(broker.port, client_id="phone-resend")
    time.sleep(0.5)
    pub = _connected(MqttConfig(port=broker.port, client_id="t", ha_discovery=False), outbox)
    try:
        assert wait_for(lambda: outbox.pending_count() == 0, 60), outbox.pending_count()
        assert wait_for(lambda: len({r["seq"] for r in phone.reps()}) == 2500, 20), len(phone.reps())
    finally:
        pub.stop(flush_timeout_s=1)
        phone.close()
        outbox.close()


def test_waiting_events_go_out_under_the_prefix_configured_now(broker, tmp_path) -> None:
    """An older version stored the whole topic, even one with a wildcard prefix that could never be published;
    the outbox now keeps the topic under the prefix, and what waits goes out under today's prefix."""
    outbox = Outbox(tmp_path / "outbox.sqlite3").open()
    outbox.add("gym/#/reps", lambda seq: json.dumps({"type": "rep", "seq": seq}))  # as the wildcard bug stored it
    outbox.add("reps", lambda seq: json.dumps({"type": "rep", "seq": seq}))
    phone = Subscriber(broker.port, client_id="phone-prefix", topic="home/#")
    time.sleep(0.5)
    pub = _connected(MqttConfig(port=broker.port, client_id="t", topic_prefix="home", ha_discovery=False), outbox)
    try:
        assert wait_for(lambda: outbox.pending_count() == 0, 10)
        assert wait_for(lambda: [t for t, _, _ in phone.messages if t == "home/reps"] == ["home/reps"] * 2, 10), phone.messages
    finally:
        pub.stop(flush_timeout_s=1)
        phone.close()
        outbox.close()


def test_a_failing_callback_is_logged_and_delivery_goes_on(broker, tmp_path, caplog) -> None:
    import paho.mqtt.publish as mqtt_publish

    def broken(command: str, payload: str) -> None:
        raise RuntimeError("a bug in a command handler")

    outbox = Outbox(tmp_path / "outbox.sqlite3").open()
    pub = _connected(MqttConfig(port=broker.port, client_id="t", ha_discovery=False, commands=True), outbox, on_command=broken)
    try:
        with caplog.at_level(logging.ERROR, logger="homegym.daemon.delivery.mqtt"):
            time.sleep(0.5)  # subscribed
            mqtt_publish.single("gym/cmd/reset", "set", qos=1, hostname="127.0.0.1", port=broker.port)
            assert wait_for(lambda: any("on_message failed" in r.getMessage() for r in caplog.records), 10)
        pub.handle(outbox.record(_rep(1)))
        assert wait_for(lambda: outbox.pending_count() == 0, 10), "paho's network thread still reads acknowledgements"
    finally:
        pub.stop(flush_timeout_s=1)
        outbox.close()


def test_two_daemons_with_one_client_id_are_told_apart(broker, tmp_path, caplog) -> None:
    """MQTT 3.1.1 brokers drop the older of two sessions with one client id, and say nothing: after two
    connections in a row closed right after they opened, the warning names the likely cause."""
    boxes = [Outbox(tmp_path / f"outbox{i}.sqlite3").open() for i in range(2)]
    cfg = MqttConfig(port=broker.port, client_id="same", ha_discovery=False)
    pubs = []
    try:
        with caplog.at_level(logging.WARNING, logger="homegym.daemon.delivery.mqtt"):
            for box in boxes:
                pubs.append(Publisher(cfg, box))
                pubs[-1].start()
            assert wait_for(lambda: any("another client using client id 'same'" in r.getMessage() for r in caplog.records), 30)
    finally:
        for pub in pubs:
            pub.stop(flush_timeout_s=0.5)
        for box in boxes:
            box.close()


def test_a_connection_closed_before_the_broker_accepts_it_is_one_line(tmp_path, caplog) -> None:
    """Something on the port that is not an MQTT broker ends every attempt before CONNACK: said, a line an attempt."""
    import socket
    import threading

    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    stop = threading.Event()

    def refuse() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
                conn.close()
            except OSError:  # the accept timed out, or the test is over
                continue

    t = threading.Thread(target=refuse, daemon=True)
    t.start()
    outbox = Outbox(tmp_path / "outbox.sqlite3").open()
    pub = Publisher(MqttConfig(port=port, client_id="t", ha_discovery=False, reconnect_max_s=1), outbox)
    try:
        with caplog.at_level(logging.ERROR, logger="homegym.daemon.delivery.mqtt"):
            pub.start()
            assert wait_for(lambda: any("closed the connection before accepting it" in r.getMessage() for r in caplog.records), 15)
            time.sleep(3)  # more attempts, the same cause
        lines = [r.getMessage() for r in caplog.records if "closed the connection before accepting it" in r.getMessage()]
        assert len(lines) >= 2 and all(f":{port} closed" in line for line in lines), lines  # one line per attempt
        assert "(attempt 1;" in lines[0] and "(attempt 2;" in lines[1]
    finally:
        stop.set()
        pub.stop(flush_timeout_s=0.2)
        outbox.close()
        t.join(5)
        server.close()
