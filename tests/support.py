"""Helpers the test modules share (fixtures live in conftest.py): paths, the CLI as a user runs it, error checks."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from importlib.util import find_spec
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("HOMEGYM_SHARED_DATA", ROOT.parent / "shared" / "data"))
IMAGENET = SHARED / "weights" / "mobilenet_v2_1.0_no_top_imagenet.weights.h5"

# The train tier: tests that fit or build a Keras model skip cleanly on a daemon-only install.
needs_tf = pytest.mark.skipif(find_spec("tensorflow") is None, reason="needs the train extra (pip install -e '.[train]')")


def learned_clips(small_model, training_clips) -> list[dict]:
    """The manifest rows of the rendered clips the small model trained on and learned (>= 97 % of frames).

    The small model learns these clips, not rendered figures in general (about half its
    held-out frames are right, like the seed's recipe on real people). Tests of the chain —
    decoding, the ring, the IR's baked-in preprocessing, batching, voting, counting — use
    them, where the classifier is right; how well a model generalises is the default-model
    issue's figure.
    """
    import csv
    import json

    rep = json.loads((small_model[0] / "report.json").read_text())
    rows = {r["file"][:-4]: r for r in csv.DictReader((training_clips / "clips.csv").open())}
    return [dict(rows[n], name=n) for n, c in rep["per_clip"].items() if c["split"] == "train" and c["accuracy"] >= 0.97]


def counted_rows(folder: Path) -> list[dict]:
    """The manifest rows of rendered clips (``image_clips``), each with its ``name``."""
    import csv

    with (folder / "clips.csv").open(newline="") as f:
        return [dict(r, name=r["file"][:-4]) for r in csv.DictReader(f)]


def concat_clips(folder: Path, rows: list[dict], out: Path, size: tuple[int, int] | None = None, fps: float | None = None,
                 speed: float = 1.0) -> int:
    """The clips of ``rows`` (manifest rows: file, fps) back to back in one video: ``homegym join`` on them."""
    from homegym.core.video import join_videos

    return sum(join_videos([(folder / row["file"], float(row["fps"])) for row in rows], out, size, fps, speed))


def one_line_error(r: subprocess.CompletedProcess) -> str:
    """The command failed with exactly one error line (log lines aside) and no traceback; returns it."""
    assert r.returncode != 0
    log_line = re.compile(r"^(\d{4}-\d\d-\d\d [\d:,.]+ )?(DEBUG|INFO|WARNING) ")  # homegym run stamps its log lines
    lines = [line for line in r.stderr.splitlines() if line.strip() and not log_line.match(line)]
    assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr[-2000:]
    return lines[0]


# Commands whose process is what a test tests: the daemon (signals, its threads, its exit), its status probe, the
# installer (a venv and pip), the bench (it starts daemons and times them). Every other command runs in the test's
# own process: the same parser, handlers, error lines and exit codes, without a Python start and OpenVINO's import
# (and TensorFlow's, for train and convert) each time.
PROCESS_COMMANDS = {"run", "status", "install-service", "uninstall-service", "bench"}


def run_cli(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    """The ``homegym`` command the way a user runs it: ``homegym.cli.main`` on these arguments, its stdout, stderr
    and exit code; a real process for ``PROCESS_COMMANDS`` (or ``run_cli_process``)."""
    if next((a for a in args if not a.startswith("-")), None) in PROCESS_COMMANDS:
        return run_cli_process(*args, timeout=timeout)
    import contextlib
    import io
    import logging

    from homegym.cli import main

    out, err = io.StringIO(), io.StringIO()
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                rc = main(list(args))
            except SystemExit as e:  # argparse: --help, or a usage error
                rc = e.code if isinstance(e.code, int) else (0 if e.code is None else 2)
    finally:
        root.handlers[:], root.level = handlers, level
    return subprocess.CompletedProcess(["homegym", *args], rc, out.getvalue(), err.getvalue())


def run_cli_process(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run the installed ``homegym`` command in a process of its own."""
    return subprocess.run([sys.executable, "-m", "homegym.cli", *args], capture_output=True, text=True, timeout=timeout)


# -- MQTT: a phone that subscribes, and the daemon as a user starts it ----------------------------------


class Subscriber:
    """A phone: subscribes to gym/#, keeps its session across broker restarts, records every message."""

    def __init__(self, port: int, client_id: str = "phone", topic: str = "gym/#", auth: tuple[str, str] | None = None,
                 ca: Path | None = None, host: str = "127.0.0.1", cert: tuple[Path, Path] | None = None) -> None:
        import paho.mqtt.client as mqtt

        self.messages: list[tuple[str, str, bool]] = []
        self.lock = threading.Lock()
        self.c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False)
        if auth:
            self.c.username_pw_set(*auth)
        if ca:
            self.c.tls_set(ca_certs=str(ca), certfile=str(cert[0]) if cert else None, keyfile=str(cert[1]) if cert else None)
        self.c.on_connect = lambda c, u, f, rc, p: c.subscribe(topic, qos=1)
        self.c.on_message = self._on_message
        self.c.reconnect_delay_set(1, 1)
        self.c.connect(host, port, 5)
        self.c.loop_start()

    def _on_message(self, c, u, msg) -> None:
        with self.lock:
            self.messages.append((msg.topic, msg.payload.decode(), bool(msg.retain)))

    def reps(self) -> list[dict]:
        with self.lock:
            return [json.loads(p) for t, p, _ in self.messages if t == "gym/reps"]

    def last(self, topic: str) -> str | None:
        with self.lock:
            vals = [p for t, p, _ in self.messages if t == topic]
        return vals[-1] if vals else None

    def close(self) -> None:
        self.c.loop_stop()
        self.c.disconnect()


def retained(port: int, topic: str) -> str | None:
    """What a newly connecting client gets for a retained topic."""
    import paho.mqtt.subscribe as sub

    try:
        msg = sub.simple(topic, hostname="127.0.0.1", port=port, retained=True, msg_count=1, keepalive=5)
    except Exception:
        return None
    return msg.payload.decode()


def write_config(tmp_path: Path, clip: Path, model: Path, port: int, state: Path, mqtt_extra: str = "") -> Path:
    cfg = tmp_path / "config.yaml"
    cfg.write_text(f"source:\n  uri: {clip}\n  realtime: true\nmodel:\n  path: {model}\n"
                   f"mqtt:\n  port: {port}\n  keepalive_s: 5\n  reconnect_min_s: 1\n  reconnect_max_s: 1\n{mqtt_extra}"
                   f"state:\n  dir: {state}\n")
    return cfg


def start_daemon(cfg: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "homegym.cli", "run", "--config", str(cfg)], stderr=subprocess.PIPE, text=True)


def wait_for(pred, timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.1)
    return pred()


class Stderr:
    """Collects a daemon's log lines as they come."""

    def __init__(self, proc: subprocess.Popen) -> None:
        self.lines: list[str] = []
        self.t = threading.Thread(target=lambda: self.lines.extend(iter(proc.stderr.readline, "")), daemon=True)
        self.t.start()

    def reps(self) -> int:
        return sum('"type":"rep"' in line for line in list(self.lines))

    def text(self) -> str:
        """Everything, once the process has closed its stderr."""
        self.t.join(5)
        return "".join(self.lines)


# -- the live page: a daemon serving it on a clip, and clips for it ------------------------------------------------------


def crop_bottom(src: Path, dst: Path, keep: float) -> None:
    """``src`` with only the top ``keep`` of each frame (a camera too low or too close: the feet cut off)."""
    import cv2

    cap = cv2.VideoCapture(str(src))
    fps = cap.get(cv2.CAP_PROP_FPS)
    writer = None
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        frame = frame[: int(frame.shape[0] * keep)]
        if writer is None:
            writer = cv2.VideoWriter(str(dst), cv2.VideoWriter.fourcc(*"mp4v"), fps, (frame.shape[1], frame.shape[0]))
        writer.write(frame)
    cap.release()
    assert writer is not None, f"no frames in {src}"
    writer.release()


def live_config(tmp_path: Path, clip: Path, port: int, host: str = "127.0.0.1", state: Path | None = None, extra: str = "") -> Path:
    """A config that plays ``clip`` in real time on the shipped default model, the live page on, MQTT off."""
    cfg = tmp_path / f"live-{port}-{clip.stem}.yaml"
    cfg.write_text(f"source:\n  uri: {clip}\n  realtime: true\nmqtt:\n  enabled: false\n"
                   f"state:\n  dir: {state or tmp_path / 'state'}\nlive:\n  enabled: true\n  host: {host}\n  port: {port}\n{extra}")
    return cfg


def wait_http(url: str, timeout: float = 60, headers: dict | None = None) -> bool:
    """True once something answers at ``url`` (any HTTP status)."""
    import urllib.error
    import urllib.request

    def up() -> bool:
        try:
            urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=2).close()
            return True
        except urllib.error.HTTPError:
            return True
        except OSError:
            return False

    return wait_for(up, timeout)
