"""Why a connection to the broker failed, found by trying the TCP and TLS handshakes by hand.

paho says only that an attempt failed. Finding out opens sockets with timeouts of seconds,
so it runs on a thread of its own, never on paho's network thread (which must go on reading
acknowledgements): one worker, a short bounded queue of attempts to explain, and what it finds
handed to a callback.
"""

from __future__ import annotations

import logging
import queue
import socket
import ssl
import threading
from collections.abc import Callable

from ..config.settings import MqttConfig

log = logging.getLogger(__name__)
TIMEOUT_S = 5.0
QUEUED = 4  # failed attempts waiting to be explained; more are reported without the handshake's reason


def unreachable(cfg: MqttConfig) -> str:
    """Why the broker could not be reached: the TCP (and TLS) handshake's own error."""
    try:
        with socket.create_connection((cfg.host, cfg.port), timeout=TIMEOUT_S) as sock:
            if cfg.tls_ca_file:
                ctx = ssl.create_default_context(cafile=cfg.tls_ca_file)
                if cfg.tls_certfile:
                    ctx.load_cert_chain(cfg.tls_certfile, cfg.tls_keyfile)
                with ctx.wrap_socket(sock, server_hostname=cfg.host):
                    pass
    except ssl.SSLCertVerificationError as e:
        return f"untrusted certificate ({e.verify_message})"
    except ssl.SSLError as e:
        return f"TLS error ({e.reason or e})"
    except OSError as e:
        return e.strerror or str(e)
    return "the MQTT handshake failed"


def closed_early(cfg: MqttConfig) -> str | None:
    """Why a plain client was turned away before the broker accepted it, where the port speaks TLS."""
    if cfg.tls_ca_file:
        return None
    try:
        with socket.create_connection((cfg.host, cfg.port), timeout=TIMEOUT_S) as sock:
            ctx = ssl.create_default_context()
            ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
            with ctx.wrap_socket(sock, server_hostname=cfg.host):
                return "the port speaks TLS: set mqtt.tls_ca_file (the CA that signed the broker's certificate)"
    except (OSError, ssl.SSLError):
        return None


Question = Callable[[MqttConfig], str | None]
Answer = Callable[[str | None], None]


class Diagnosis:
    """One worker thread that answers ``ask``'d questions in order, off the caller's thread."""

    def __init__(self, cfg: MqttConfig) -> None:
        self.cfg = cfg
        self._queue: queue.Queue[tuple[Question, Answer] | None] = queue.Queue(maxsize=QUEUED)
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._work, name="mqtt-diagnosis", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is None:
            return
        try:
            self._queue.put_nowait(None)
        except queue.Full:
            pass  # a daemon thread: it ends with the process, at most TIMEOUT_S later for each queued question
        self._thread.join(timeout=0.5)
        self._thread = None

    def ask(self, question: Question, answer: Answer) -> None:
        """``answer(question(cfg))`` on the worker; where too many wait, ``answer(None)`` at once."""
        try:
            self._queue.put_nowait((question, answer))
        except queue.Full:
            answer(None)

    def _work(self) -> None:
        while (job := self._queue.get()) is not None:
            question, answer = job
            try:
                answer(question(self.cfg))
            except Exception:
                log.exception("MQTT: diagnosing a failed connection failed")
