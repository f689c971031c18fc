"""MQTT: the pipeline's events to the broker, through the outbox, never waiting for the broker.

paho-mqtt 2.x with the VERSION2 callbacks, its network loop in its own thread. An event
is stored in the outbox first; it is published (QoS 1) only while connected, and marked
delivered on the broker's PUBACK. On every (re)connect the undelivered events are sent
again in order; ``seq`` lets subscribers drop the duplicates this may bring.

Topics under the prefix (default ``gym``): ``reps`` (QoS 1), ``sets`` (QoS 1),
``state`` (retained), ``status`` (retained ``online``/``offline``, ``offline`` being
the last will), ``stats`` (periodic health), and the commands ``cmd/reset`` and
``cmd/exercise``. Home Assistant discovery is published on connect and again
whenever Home Assistant announces itself ``online``.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import ssl
import threading
import time
from collections.abc import Callable
from pathlib import Path

from homegym.core.errors import UserError

from .config import MqttConfig
from .events import Event, RepEvent, SetEndEvent
from .outbox import Outbox

log = logging.getLogger(__name__)


def read_password(path: str | None) -> str | None:
    """The password from a file (or a systemd credential under $CREDENTIALS_DIRECTORY), never from argv."""
    if not path:
        return None
    p = Path(os.path.expandvars(path)).expanduser()  # "${CREDENTIALS_DIRECTORY}/mqtt-password" works too
    try:
        return p.read_text().rstrip("\n")
    except OSError as e:
        raise UserError(f"cannot read mqtt.password_file {p}: {e.strerror}") from None


class Publisher:
    def __init__(self, cfg: MqttConfig, outbox: Outbox, on_delivered: Callable[[int], None] | None = None) -> None:
        import paho.mqtt.client as mqtt

        self.cfg = cfg
        self.outbox = outbox
        self.topic = {k: f"{cfg.topic_prefix}/{k}" for k in ("reps", "sets", "state", "status", "stats", "cmd/reset", "cmd/exercise")}
        self.on_command: Callable[[str, str], None] | None = None  # (command, payload), from paho's thread
        self.on_delivered = on_delivered  # (seq) once the broker acknowledged an event, from paho's thread
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=cfg.client_id, protocol=mqtt.MQTTv311)
        self.client.will_set(self.topic["status"], "offline", qos=1, retain=True)
        if cfg.username:
            self.client.username_pw_set(cfg.username, read_password(cfg.password_file))
        if cfg.tls_ca_file:
            self.client.tls_set(ca_certs=cfg.tls_ca_file, certfile=cfg.tls_certfile, keyfile=cfg.tls_keyfile,
                                cert_reqs=ssl.CERT_REQUIRED, tls_version=ssl.PROTOCOL_TLS_CLIENT)
        self.client.reconnect_delay_set(min_delay=max(1, round(cfg.reconnect_min_s)), max_delay=max(1, round(cfg.reconnect_max_s)))
        self.client.on_connect = self._on_connect
        self.client.on_connect_fail = self._on_connect_fail
        self.client.on_disconnect = self._on_disconnect
        self.client.on_publish = self._on_publish
        self.client.on_message = self._on_message
        self._lock = threading.Lock()
        self._mids: dict[int, int | None] = {}  # paho message id -> outbox seq (None: not an outbox message)
        self._early: set[int] = set()  # acks that came before publish() returned
        self.connected = threading.Event()
        self.reconnects = 0
        self._last_error: str | None = None
        self._state: str | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        self.client.connect_async(self.cfg.host, self.cfg.port, self.cfg.keepalive_s)
        self.client.loop_start()

    def stop(self, flush_timeout_s: float = 3.0) -> None:
        """Flush what the broker will take within the timeout, publish ``offline``, disconnect."""
        deadline = time.monotonic() + flush_timeout_s
        while self.connected.is_set() and self.outbox.pending(1) and time.monotonic() < deadline:
            time.sleep(0.05)
        if self.connected.is_set():
            info = self.client.publish(self.topic["status"], "offline", qos=1, retain=True)
            info.wait_for_publish(max(0.1, deadline - time.monotonic()))
        self.client.disconnect()
        self.client.loop_stop()

    # -- paho callbacks (network thread) -------------------------------------------------------

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            self._report(f"MQTT broker {self.cfg.host}:{self.cfg.port} refused the connection: {reason_code}")
            return
        self._last_error = None
        log.info("MQTT connected to %s:%d", self.cfg.host, self.cfg.port)
        self.connected.set()
        client.subscribe([(self.topic["cmd/reset"], 1), (self.topic["cmd/exercise"], 1)])
        if self.cfg.ha_discovery:
            client.subscribe(f"{self.cfg.ha_prefix}/status", 1)
            self._discovery()
        self._publish(self.topic["status"], "online", retain=True)
        if self._state is not None:
            self._publish(self.topic["state"], self._state, retain=True)
        self._resend()

    def _on_connect_fail(self, client, userdata) -> None:
        self._report(f"MQTT broker {self.cfg.host}:{self.cfg.port} unreachable: {self._diagnose()}")

    def _report(self, msg: str) -> None:
        """One log line per distinct cause, not one per retry."""
        if msg != self._last_error:
            log.error("%s (retrying with backoff; counting goes on)", msg)
            self._last_error = msg

    def _diagnose(self) -> str:
        """paho says only that the connection failed: try it by hand to name the cause."""
        try:
            with socket.create_connection((self.cfg.host, self.cfg.port), timeout=5) as sock:
                if self.cfg.tls_ca_file:
                    ctx = ssl.create_default_context(cafile=self.cfg.tls_ca_file)
                    if self.cfg.tls_certfile:
                        ctx.load_cert_chain(self.cfg.tls_certfile, self.cfg.tls_keyfile)
                    with ctx.wrap_socket(sock, server_hostname=self.cfg.host):
                        pass
        except ssl.SSLCertVerificationError as e:
            return f"untrusted certificate ({e.verify_message})"
        except ssl.SSLError as e:
            return f"TLS error ({e.reason or e})"
        except OSError as e:
            return e.strerror or str(e)
        return "the MQTT handshake failed"

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        was = self.connected.is_set()
        self.connected.clear()
        with self._lock:
            self._mids.clear()
            self._early.clear()
        if was:
            self.reconnects += 1
            log.warning("MQTT disconnected (%s); reconnecting with backoff", reason_code)

    def _on_message(self, client, userdata, msg) -> None:
        payload = msg.payload.decode("utf-8", "replace").strip()
        if msg.topic == f"{self.cfg.ha_prefix}/status":
            if payload == "online":
                log.info("Home Assistant is online: sending discovery again")
                self._discovery()
            return
        command = msg.topic[len(self.cfg.topic_prefix) + len("/cmd/"):]
        log.info("command %s %r", command, payload)
        if self.on_command is not None:
            self.on_command(command, payload)

    def _discovery(self) -> None:
        """Home Assistant MQTT discovery: today's total, the current exercise, and an event per rep, on one device."""
        node = self.cfg.client_id
        device = {"identifiers": [f"homegym_{node}"], "name": "HomeGym Spotter", "model": "rep counter", "manufacturer": "HomeGym"}
        avail = {"availability_topic": self.topic["status"], "payload_available": "online", "payload_not_available": "offline"}
        entities: dict[str, dict[str, object]] = {
            f"sensor/{node}/total_today": {"name": "Reps today", "state_topic": self.topic["state"],
                                           "value_template": "{{ value_json.total_today }}",
                                           "unit_of_measurement": "reps", "state_class": "total_increasing", "icon": "mdi:dumbbell"},
            f"sensor/{node}/exercise": {"name": "Exercise", "state_topic": self.topic["state"],
                                        "value_template": "{{ value_json.exercise or 'none' }}",
                                        "icon": "mdi:human-handsup"},
            f"event/{node}/rep": {"name": "Rep", "state_topic": self.topic["reps"], "event_types": ["rep"],
                                  "value_template": '{"event_type": "{{ value_json.type }}", '
                                                    '"exercise": "{{ value_json.exercise }}", "total": {{ value_json.total }}}'},
        }
        for path, conf in entities.items():
            conf = dict(conf, unique_id=f"homegym_{path.replace('/', '_')}", device=device, **avail)
            self._publish(f"{self.cfg.ha_prefix}/{path}/config", json.dumps(conf, sort_keys=True), retain=True)

    def _on_publish(self, client, userdata, mid, reason_code, properties) -> None:
        with self._lock:
            if mid not in self._mids:
                self._early.add(mid)
                return
            seq = self._mids.pop(mid)
        if seq is not None:
            self._delivered(seq)

    # -- publishing ----------------------------------------------------------------------------

    def _publish(self, topic: str, payload: str, seq: int | None = None, retain: bool = False) -> None:
        info = self.client.publish(topic, payload, qos=self.cfg.qos if seq is not None else 1, retain=retain)
        with self._lock:
            if info.mid in self._early:
                self._early.discard(info.mid)
                acked = True
            else:
                self._mids[info.mid] = seq
                acked = False
        if acked and seq is not None:
            self._delivered(seq)

    def _delivered(self, seq: int) -> None:
        """The broker acknowledged event ``seq``: mark it in the outbox, then tell ``on_delivered`` (bench, tests)."""
        self.outbox.mark_delivered(seq)
        if self.on_delivered is not None:
            self.on_delivered(seq)

    def _resend(self) -> None:
        for p in self.outbox.pending():
            if not self.connected.is_set():
                return
            self._publish(p.topic, p.payload, p.seq)

    def handle(self, event: Event) -> None:
        """The pipeline's sink: store, then publish if connected. Never blocks on the broker."""
        topic = self.topic["reps"] if isinstance(event, RepEvent) else self.topic["sets"] if isinstance(event, SetEndEvent) else None
        if topic is None:
            return  # partial reps go to the log only

        def payload(seq: int) -> str:
            event.seq = seq
            return event.to_json()

        seq = self.outbox.add(topic, payload)
        if self.connected.is_set():
            self._publish(topic, event.to_json(), seq)

    def stats(self, stats: dict) -> None:
        """Periodic health; not stored (the next one replaces it)."""
        if self.connected.is_set():
            stats = dict(stats, mqtt_reconnects=self.reconnects, outbox_pending=len(self.outbox.pending()),
                         outbox_dropped=self.outbox.dropped)
            self.client.publish(self.topic["stats"], json.dumps(stats, sort_keys=True, separators=(",", ":")), qos=0)

    def state(self, state: dict) -> None:
        """Publish the retained state if it changed (and remember it for the next connect)."""
        text = json.dumps(state, sort_keys=True, separators=(",", ":"))
        if text == self._state:
            return
        self._state = text
        if self.connected.is_set():
            self._publish(self.topic["state"], text, retain=True)
