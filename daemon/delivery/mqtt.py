"""MQTT: the pipeline's events to the broker, through the outbox, never waiting for the broker.

paho-mqtt 2.x with the VERSION2 callbacks, its network loop in its own thread. An event
is stored in the outbox first; it is published (QoS 1) only while connected, and marked
delivered on the broker's PUBACK. On every (re)connect the undelivered events are sent
again in order; ``seq`` lets subscribers drop the duplicates this may bring.

Topics under the prefix (default ``gym``): ``reps`` (QoS 1), ``sets`` (QoS 1),
``state`` (retained), ``status`` (retained ``online``/``offline``, ``offline`` being
the last will), ``stats`` (periodic health), and the commands ``cmd/reset`` and
``cmd/exercise``. Home Assistant discovery (``discovery.messages``) is published on connect
and again whenever Home Assistant announces itself ``online``. Why a connection failed is
found on a thread of its own (``diagnosis``), never on paho's.

The constructor only sets fields; ``start()`` makes the client (reading the password and the
TLS files, each a one-line error) and connects in the background; ``stop()`` flushes and ends.
"""

from __future__ import annotations

import json
import logging
import os
import ssl
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from homegym.core import lograte
from homegym.core.errors import UserError

from ..config.settings import MqttConfig
from ..counting.events import Event, topic_of
from . import discovery
from .diagnosis import Diagnosis, closed_early, unreachable
from .outbox import Outbox

log = logging.getLogger(__name__)
noisy = lograte.limited(f"{__name__}.remote")  # what a broker's publisher can make it say: rate-limited
RESEND_PAGE = 500  # undelivered events read from the outbox at a time when resending
EARLY_ACKS_KEPT = 1000
MAX_COMMAND_BYTES = 64  # "set", "day", "auto", an exercise: anything longer is not a command
COMMANDS_PER_S = 20  # beyond it commands are dropped
TAKEN_OVER_S = 5.0


def read_password(path: str | None) -> str | None:
    """The password from a file (or a systemd credential under $CREDENTIALS_DIRECTORY), never from argv."""
    if not path:
        return None
    p = Path(os.path.expandvars(path)).expanduser()  # "${CREDENTIALS_DIRECTORY}/mqtt-password" works too
    try:
        return p.read_text().rstrip("\n")
    except OSError as e:
        raise UserError(f"cannot read mqtt.password_file {p}: {e.strerror}") from None


def check_tls_files(cfg: MqttConfig) -> None:
    """The TLS files load, or a one-line error naming the config key, the path and what is wrong with it
    (OpenSSL would say "No such file or directory" or "[X509] PEM lib (_ssl.c:4123)" and nothing more)."""
    for key in ("tls_ca_file", "tls_certfile", "tls_keyfile"):
        path = getattr(cfg, key)
        if path is None:
            continue
        try:
            with open(path, "rb"):
                pass
        except OSError as e:
            raise UserError(f"mqtt.{key}: {path}: {e.strerror}") from None
    try:
        ctx = ssl.create_default_context(cafile=cfg.tls_ca_file)
    except ssl.SSLError as e:
        raise UserError(f"mqtt.tls_ca_file: {cfg.tls_ca_file}: not a CA certificate in PEM form ({e.reason or e})") from None
    if cfg.tls_certfile:
        try:
            ctx.load_cert_chain(cfg.tls_certfile, cfg.tls_keyfile)
        except ssl.SSLError as e:
            raise UserError(f"mqtt.tls_certfile: {cfg.tls_certfile} with mqtt.tls_keyfile {cfg.tls_keyfile}: not a certificate "
                            f"and its key in PEM form ({e.reason or e})") from None


def check_files(cfg: MqttConfig) -> None:
    """The password and TLS files the connection will need, each readable, or a one-line error naming its key."""
    if cfg.username:
        read_password(cfg.password_file)
    if cfg.tls_ca_file:
        check_tls_files(cfg)


def _guarded(callback: Callable[..., None]) -> Callable[..., None]:
    """A paho callback that cannot kill paho's network thread: an exception there would end delivery for
    good (no acknowledgement read again) while the daemon went on counting. It is logged with its traceback,
    and delivery goes on."""

    def run(*args: object) -> None:
        try:
            callback(*args)
        except Exception:
            log.exception("MQTT: %s failed (delivery goes on)", callback.__name__.lstrip("_"))

    return run


class Publisher:
    def __init__(self, cfg: MqttConfig, outbox: Outbox, on_delivered: Callable[[int], None] | None = None,
                 on_command: Callable[[str, str], None] | None = None, exercises: Callable[[], tuple[str, ...]] = tuple) -> None:
        """``on_command(command, payload)`` and ``on_delivered(seq)`` (once the broker acknowledged an event) are called
        from paho's thread; ``exercises()``: the exercises counted now, each with its Home Assistant sensor."""
        self.cfg = cfg
        self.outbox = outbox
        self.topic = {k: f"{cfg.topic_prefix}/{k}" for k in ("reps", "sets", "partials", "state", "status", "stats",
                                                                  "history", "cmd/reset", "cmd/exercise")}
        self.on_command = on_command
        self.on_delivered = on_delivered
        self.exercises = exercises
        self.client: Any = None  # paho's, made by start()
        self.diagnosis = Diagnosis(cfg)
        self._lock = threading.Lock()
        self._mids: dict[int, int | None] = {}  # paho message id -> outbox seq (None: not an outbox message)
        self._early: dict[int, None] = {}  # acks that came before publish() returned, oldest first
        self._command_times: deque[float] = deque(maxlen=COMMANDS_PER_S)
        self._stopping = False  # a disconnect we asked for is no news
        self._connected_at = 0.0
        self._closed_soon = 0  # connections in a row the broker closed within TAKEN_OVER_S
        self.connected = threading.Event()
        self.reconnects = 0
        self._report_lock = threading.Lock()  # paho's thread and the diagnosis' report failures
        self._last_error: str | None = None
        self._failures = 0  # attempts in a row that failed for the cause last reported
        self._refused = False
        self._state: str | None = None
        self._history: str | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def _make_client(self):
        import paho.mqtt.client as mqtt

        cfg = self.cfg
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=cfg.client_id, protocol=mqtt.MQTTv311)
        client.will_set(self.topic["status"], "offline", qos=1, retain=True)
        if cfg.username:
            client.username_pw_set(cfg.username, read_password(cfg.password_file))
        if cfg.tls_ca_file:
            check_tls_files(cfg)
            client.tls_set(ca_certs=cfg.tls_ca_file, certfile=cfg.tls_certfile, keyfile=cfg.tls_keyfile,
                           cert_reqs=ssl.CERT_REQUIRED, tls_version=ssl.PROTOCOL_TLS_CLIENT)
        client.reconnect_delay_set(min_delay=max(1, round(cfg.reconnect_min_s)), max_delay=max(1, round(cfg.reconnect_max_s)))
        client.on_connect = _guarded(self._on_connect)
        client.on_connect_fail = _guarded(self._on_connect_fail)
        client.on_disconnect = _guarded(self._on_disconnect)
        client.on_publish = _guarded(self._on_publish)
        client.on_message = _guarded(self._on_message)
        return client

    def start(self) -> None:
        """The client made (a missing password or TLS file: a UserError here), then connecting in the background."""
        self.client = self._make_client()
        self.diagnosis.start()
        self.client.connect_async(self.cfg.host, self.cfg.port, self.cfg.keepalive_s)
        self.client.loop_start()

    def stop(self, flush_timeout_s: float = 3.0) -> None:
        """Flush what the broker will take within the timeout, publish ``offline``, disconnect."""
        self._stopping = True
        if self.client is None:
            return
        deadline = time.monotonic() + flush_timeout_s
        while self.connected.is_set() and self.outbox.pending(1) and time.monotonic() < deadline:
            time.sleep(0.05)
        if self.connected.is_set():
            info = self.client.publish(self.topic["status"], "offline", qos=1, retain=True)
            info.wait_for_publish(max(0.1, deadline - time.monotonic()))
        self.client.disconnect()
        self.client.loop_stop()
        self.diagnosis.stop()

    # -- paho callbacks (network thread) -------------------------------------------------------

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            self._report(f"MQTT broker {self.cfg.host}:{self.cfg.port} refused the connection: {reason_code}")
            self._refused = True  # the disconnect that follows is this attempt's, already said
            return
        with self._report_lock:
            self._last_error, self._failures = None, 0
        self._connected_at = time.monotonic()
        log.info("MQTT connected to %s:%d", self.cfg.host, self.cfg.port)
        self.connected.set()
        if self.cfg.commands:
            client.subscribe([(self.topic["cmd/reset"], 1), (self.topic["cmd/exercise"], 1)])
        if self.cfg.ha_discovery:
            client.subscribe(f"{self.cfg.ha_prefix}/status", 1)
            self._discovery()
        self._publish(self.topic["status"], "online", retain=True)
        if self._state is not None:
            self._publish(self.topic["state"], self._state, retain=True)
        if self._history is not None:
            self._publish(self.topic["history"], self._history, retain=True)
        self._resend()

    def _on_connect_fail(self, client, userdata) -> None:
        where = f"MQTT broker {self.cfg.host}:{self.cfg.port} unreachable"
        self.diagnosis.ask(unreachable, lambda why: self._report(f"{where}: {why}" if why else where))

    def _report(self, msg: str) -> None:
        """One line per failed attempt, naming its cause and how many attempts in a row it has failed (the
        reconnect backoff, up to mqtt.reconnect_max_s, bounds how often)."""
        with self._report_lock:
            self._failures = self._failures + 1 if msg == self._last_error else 1
            self._last_error = msg
            failures = self._failures
        log.error("%s (attempt %d; retrying with backoff, counting goes on)", msg, failures)

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        was = self.connected.is_set()
        self.connected.clear()
        with self._lock:
            self._mids.clear()
            self._early.clear()
        if self._stopping:
            log.info("MQTT disconnected")
            return
        if not was and self._refused:
            self._refused = False
            return
        if not was:  # an attempt the broker ended before it accepted us: paho says nothing about it
            where = f"MQTT broker {self.cfg.host}:{self.cfg.port} closed the connection before accepting it"
            self.diagnosis.ask(closed_early, lambda why: self._report(f"{where}: {why or reason_code}"))
            return
        self.reconnects += 1
        if time.monotonic() - self._connected_at < TAKEN_OVER_S:
            self._closed_soon += 1
        else:
            self._closed_soon = 0
        if self._closed_soon >= 2:  # MQTT 3.1.1 brokers close the older of two sessions with one client id, unexplained
            noisy.warning("MQTT broker %s:%d closed the connection right after it opened, %d times in a row: is "
                       "another client using client id %r? Each daemon on one broker needs its own mqtt.client_id",
                       self.cfg.host, self.cfg.port, self._closed_soon, self.cfg.client_id)
        else:
            log.warning("MQTT disconnected (%s); reconnecting with backoff", reason_code)

    def _on_message(self, client, userdata, msg) -> None:
        payload = msg.payload.decode("utf-8", "replace").strip()
        if msg.topic == f"{self.cfg.ha_prefix}/status":
            if payload == "online":
                log.info("Home Assistant is online: sending discovery again")
                self._discovery()
            return
        command = msg.topic[len(self.cfg.topic_prefix) + len("/cmd/"):]
        if msg.retain:  # a retained command would act again on every start and reconnect
            noisy.warning("ignored a retained command on %s (clear it: mosquitto_pub -r -n -t %s)", msg.topic, msg.topic)
            return
        if len(msg.payload) > MAX_COMMAND_BYTES:
            noisy.warning("ignored a command on %s of %d bytes (at most %d): %r...", msg.topic, len(msg.payload),
                       MAX_COMMAND_BYTES, payload[:32])
            return
        now = time.monotonic()
        self._command_times.append(now)
        if len(self._command_times) == self._command_times.maxlen and now - self._command_times[0] < 1.0:
            noisy.warning("ignored commands: more than %d a second", self._command_times.maxlen)
            return
        noisy.info("command %s %r", command, payload)
        if self.on_command is not None:
            self.on_command(command, payload)

    def announce(self) -> None:
        """Home Assistant discovery again now (the exercises counted changed on a reload), where it is on and connected."""
        if self.cfg.ha_discovery and self.connected.is_set():
            self._discovery()

    def _discovery(self) -> None:
        for topic, payload in discovery.messages(self.cfg, self.topic, self.exercises()):
            self._publish(topic, payload, retain=True)

    def _on_publish(self, client, userdata, mid, reason_code, properties) -> None:
        with self._lock:
            if mid not in self._mids:
                # Acknowledged before publish() returned: _publish settles it. Bounded, so an ack that never
                # finds its publish (none should) cannot pile up on a box that runs for months.
                self._early[mid] = None
                while len(self._early) > EARLY_ACKS_KEPT:
                    del self._early[next(iter(self._early))]
                return
            seq = self._mids.pop(mid)
        if seq is not None:
            self._delivered(seq)

    # -- publishing ----------------------------------------------------------------------------

    def _publish(self, topic: str, payload: str, seq: int | None = None, retain: bool = False, qos: int | None = None) -> None:
        """Every publish goes through here, so every message id paho hands out is settled exactly once, by its
        own acknowledgement (a QoS 0 message's is paho's, when it is written): an id is never left behind to
        be taken for a later message's after ids wrap at 65,535, and only an event's (``seq``) marks it delivered."""
        qos = (self.cfg.qos if seq is not None else 1) if qos is None else qos
        assert self.client is not None, "start() made it"
        info = self.client.publish(topic, payload, qos=qos, retain=retain)
        with self._lock:
            acked = self._early.pop(info.mid, 0) is None
            if not acked:
                self._mids[info.mid] = seq
        if acked and seq is not None:
            self._delivered(seq)

    def _delivered(self, seq: int) -> None:
        """The broker acknowledged event ``seq``: mark it in the outbox, then tell ``on_delivered`` (bench, tests)."""
        self.outbox.mark_delivered(seq)
        if self.on_delivered is not None:
            self.on_delivered(seq)

    def _resend(self) -> None:
        """Every undelivered event, in order, a page at a time (the outbox may hold many thousand)."""
        after = 0
        while self.connected.is_set():
            page = self.outbox.pending(RESEND_PAGE, after)
            if not page:
                return
            for p in page:
                if not self.connected.is_set():
                    return
                self._publish(f"{self.cfg.topic_prefix}/{p.suffix}", p.payload, p.seq)
            after = page[-1].seq

    def handle(self, event: Event) -> None:
        """Publish a numbered event if connected (the outbox stored it when it was numbered, so it goes out again after
        a reconnect if not now). Never blocks on the broker."""
        topic = topic_of(event)
        if topic is None or event.seq is None:
            return
        if self.connected.is_set():
            self._publish(self.topic[topic], event.to_json(), event.seq)

    def stats(self, stats: dict) -> None:
        """Periodic health; not stored (the next one replaces it)."""
        if self.connected.is_set():
            stats = dict(stats, mqtt_reconnects=self.reconnects, outbox_pending=self.outbox.pending_count(),
                         outbox_dropped=self.outbox.dropped)
            self._publish(self.topic["stats"], json.dumps(stats, sort_keys=True, separators=(",", ":")), qos=0)

    def history(self, summary: dict) -> None:
        """The retained history summary (the weeks, bests, the last set: Home Assistant's sensors read it), kept for the
        next connect too."""
        self._history = json.dumps(summary, sort_keys=True, separators=(",", ":"))
        if self.connected.is_set():
            self._publish(self.topic["history"], self._history, retain=True)

    def state(self, state: dict) -> None:
        """Publish the retained state if it changed (and remember it for the next connect)."""
        text = json.dumps(state, sort_keys=True, separators=(",", ":"))
        if text == self._state:
            return
        self._state = text
        if self.connected.is_set():
            self._publish(self.topic["state"], text, retain=True)
