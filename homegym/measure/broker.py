"""A Mosquitto broker of one's own on a free loopback port: what ``homegym bench`` and the tests publish to.

Never a broker someone else left running: each instance writes its own config into its own
folder, listens on 127.0.0.1 only, and is stopped by whoever started it.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path


def mosquitto_path() -> str | None:
    """Debian's mosquitto (``apt-get install mosquitto``), on PATH or in /usr/sbin; None where it is not installed."""
    return shutil.which("mosquitto") or ("/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Mosquitto:
    """A mosquitto in ``workdir``; ``listener_extra`` adds lines to its listener (TLS, passwords), and
    persistence keeps sessions across a restart of the same instance."""

    def __init__(self, workdir: Path, listener_extra: str = "", anonymous: bool = True, persistence: bool = True) -> None:
        exe = mosquitto_path()
        if exe is None:
            raise FileNotFoundError("mosquitto is not installed (apt-get install mosquitto)")
        self.exe = exe
        self.port = free_port()
        self.dir = Path(workdir)
        self.conf = self.dir / "mosquitto.conf"
        # As root, mosquitto would drop to its own user, who cannot read a private temp folder.
        user = "user root\n" if os.geteuid() == 0 else ""
        keep = f"persistence true\npersistence_location {self.dir}/\nautosave_interval 1\n" if persistence else ""
        self.conf.write_text(f"{user}per_listener_settings true\nlistener {self.port} 127.0.0.1\n"
                             f"allow_anonymous {str(anonymous).lower()}\n{listener_extra}{keep}")
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float = 10.0) -> None:
        self.proc = subprocess.Popen([self.exe, "-c", str(self.conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"mosquitto did not start on port {self.port} within {timeout_s:g} s")

    def stop(self) -> None:
        if self.proc:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(10)
            self.proc = None

    def __enter__(self) -> Mosquitto:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
