"""sd_notify: readiness, watchdog pings, status lines and shutdown, to systemd over $NOTIFY_SOCKET.

It is a few lines over a datagram socket (sd_notify(3)), so no dependency. Without
NOTIFY_SOCKET (not under systemd, or not Type=notify) every call does nothing. The
watchdog pings are rate-limited to half of WatchdogSec=, and they are sent only
from the pipeline's own loop, so a pipeline that stops progressing stops pinging and
systemd restarts it.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Mapping

log = logging.getLogger(__name__)


class Notifier:
    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        env = os.environ if env is None else env
        addr = env.get("NOTIFY_SOCKET", "")
        self._addr = "\0" + addr[1:] if addr.startswith("@") else addr  # "@name": the abstract namespace
        self._sock: socket.socket | None = None
        if self._addr:
            self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
        usec = env.get("WATCHDOG_USEC", "")
        pid = env.get("WATCHDOG_PID", "")
        ours = not pid or (pid.isdigit() and int(pid) == os.getpid())
        # Ping at half the timeout, as sd_watchdog_enabled(3) advises.
        self.watchdog_interval_s: float | None = int(usec) / 2e6 if usec.isdigit() and int(usec) > 0 and ours else None
        self._next_ping = 0.0
        self._failed = False

    @property
    def enabled(self) -> bool:
        return self._sock is not None

    def send(self, *fields: str) -> bool:
        """Send ``KEY=value`` fields in one datagram; False (logged once) if systemd cannot be reached."""
        if self._sock is None:
            return False
        try:
            self._sock.sendto("\n".join(fields).encode(), self._addr)
            return True
        except OSError as e:
            if not self._failed:
                log.warning("cannot notify systemd at %s: %s", self._addr.replace("\0", "@"), e.strerror or e)
                self._failed = True
            return False

    def ready(self, status: str) -> None:
        self.send("READY=1", f"STATUS={status}")

    def reloading(self) -> None:
        """A reload begins: systemd 253 and newer hold ``systemctl reload`` until the next READY=1 (sd_notify(3) wants
        the monotonic clock with it); 252 ignores the field, and its reload returns once ExecReload= has run."""
        self.send("RELOADING=1", f"MONOTONIC_USEC={time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000}")

    def status(self, text: str) -> None:
        self.send(f"STATUS={text}")

    def extend_start(self, seconds: float) -> None:
        """While still starting (waiting for the first frame, alive): push the start timeout on."""
        self.send(f"EXTEND_TIMEOUT_USEC={int(seconds * 1e6)}")

    def watchdog(self, now: float | None = None) -> None:
        """A sign of progress; sent when due (half of WatchdogSec=), so it is cheap to call every loop."""
        if self.watchdog_interval_s is None or self._sock is None:
            return
        now = time.monotonic() if now is None else now
        if now >= self._next_ping:
            self.send("WATCHDOG=1")
            self._next_ping = now + self.watchdog_interval_s

    def stopping(self, status: str = "stopping") -> None:
        self.send("STOPPING=1", f"STATUS={status}")

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None
