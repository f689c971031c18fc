"""The service under systemd's eyes: sd_notify over a socket the test listens on, SIGHUP reloads, SIGTERM."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest
from support import Subscriber, counted_rows, retained, wait_for, write_config
from test_mqtt import Stderr

from homegym.daemon.config import settings as config_mod
from homegym.daemon.service.service import Service
from homegym.daemon.service.systemd import Notifier
from homegym.measure.broker import Mosquitto, mosquitto_path


class NotifySocket:
    """What systemd would hear: every datagram sent to $NOTIFY_SOCKET, line by line, with its arrival time."""

    def __init__(self) -> None:
        self.dir = tempfile.mkdtemp(prefix="hg-notify-", dir="/tmp")  # AF_UNIX paths must be short
        self.path = os.path.join(self.dir, "notify")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.settimeout(0.2)
        self.lines: list[tuple[float, str]] = []
        self._closed = False
        self.t = threading.Thread(target=self._listen, daemon=True)
        self.t.start()

    def _listen(self) -> None:
        while not self._closed:
            try:
                data = self.sock.recv(4096)
            except (TimeoutError, OSError):
                continue
            now = time.monotonic()
            self.lines.extend((now, line) for line in data.decode().splitlines())

    def env(self, watchdog_s: float) -> dict[str, str]:
        return {"NOTIFY_SOCKET": self.path, "WATCHDOG_USEC": str(int(watchdog_s * 1e6))}

    def times(self, line: str) -> list[float]:
        return [t for t, msg in list(self.lines) if msg == line]

    def status(self) -> list[str]:
        return [msg for _, msg in list(self.lines) if msg.startswith("STATUS=")]

    def wait(self, line: str, timeout: float = 60, count: int = 1) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.times(line)) >= count:
                return True
            time.sleep(0.05)
        return False

    def close(self) -> None:
        self._closed = True
        self.t.join(2)
        self.sock.close()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def notify_socket():
    s = NotifySocket()
    yield s
    s.close()


def _clip(image_clips, min_reps: int = 2) -> dict:
    return next(c for c in counted_rows(image_clips) if int(c["reps"]) >= min_reps)


def _config_text(clip: Path, model: Path, tmp_path: Path, extra: str = "") -> str:
    return (f"source:\n  uri: {clip}\n  realtime: true\nmodel:\n  path: {model}\n"
            f"mqtt:\n  enabled: false\nstate:\n  dir: {tmp_path / 'state'}\n{extra}")


def _start(cfg: Path, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "homegym.cli", "run", "--config", str(cfg)], stderr=subprocess.PIPE,
                            text=True, env={**os.environ, **env})


def test_the_watchdog_is_due_at_half_of_watchdog_sec(notify_socket) -> None:
    """How often it pings is the notifier's rule (its timing on a busy machine is not a test's to judge)."""
    n = Notifier(notify_socket.env(watchdog_s=0.4))
    assert n.watchdog_interval_s == pytest.approx(0.2)
    n.watchdog(100.0)
    n.watchdog(100.1)  # not due yet
    n.watchdog(100.2)
    assert notify_socket.wait("WATCHDOG=1", 5, count=2)
    time.sleep(0.2)
    assert len(notify_socket.times("WATCHDOG=1")) == 2
    n.close()


@pytest.mark.slow
def test_ready_watchdog_status_and_stopping(notify_socket, image_ir, image_clips, tmp_path) -> None:
    row = _clip(image_clips)
    cfg = tmp_path / "config.yaml"
    cfg.write_text(_config_text(image_clips / row["file"], image_ir, tmp_path))
    proc = _start(cfg, notify_socket.env(watchdog_s=0.4))
    err = Stderr(proc)
    assert notify_socket.wait("READY=1", 60), err.text()[-2000:]
    ready_at = notify_socket.times("READY=1")[0]
    assert notify_socket.wait("WATCHDOG=1", 10, count=len(notify_socket.times("WATCHDOG=1")) + 4)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(15) == 0, err.text()[-2000:]
    text = err.text()
    assert notify_socket.times("STOPPING=1"), "STOPPING=1 on SIGTERM"
    assert "compiled on CPU" in text and "ready: first frame" in text and "Traceback" not in text
    assert text.index("compiled on CPU") < text.index("ready: first frame"), "READY only after the model is compiled"
    pings = [t for t in notify_socket.times("WATCHDOG=1") if t > ready_at]
    assert len(pings) >= 4, "the watchdog is pinged while the pipeline runs"
    assert any("fps" in s and "reps today" in s for s in notify_socket.status())


@pytest.mark.slow
def test_watchdog_pings_stop_when_the_pipeline_hangs(notify_socket, image_ir, image_clips, tmp_path) -> None:
    row = _clip(image_clips)
    cfg = config_mod.parse({"source": {"uri": str(image_clips / row["file"]), "realtime": True}, "mqtt": {"enabled": False},
                            "state": {"dir": str(tmp_path / "state")}})
    svc = Service(cfg, model=image_ir, notifier=Notifier(notify_socket.env(watchdog_s=0.2)))
    svc.start()
    assert svc.pipe is not None
    hang, hung = threading.Event(), threading.Event()
    real_submit = svc.pipe.classifier.submit
    calls = 0

    def submit(batch, poses, times) -> None:  # inference that stops returning, as a wedged accelerator driver would
        nonlocal calls
        calls += 1
        if calls == 8:
            hung.set()
            hang.wait(30)
        real_submit(batch, poses, times)

    svc.pipe.classifier.submit = submit  # type: ignore[method-assign]
    runner = threading.Thread(target=lambda: svc.run())
    runner.start()
    try:
        assert hung.wait(60)
        before = notify_socket.times("WATCHDOG=1")
        time.sleep(1.5)  # more than 7 ping intervals
        during = [t for t in notify_socket.times("WATCHDOG=1") if t > hung_at(before)]
        assert before and not during, f"pings went on while the pipeline hung: {len(during)}"
    finally:
        hang.set()
    assert notify_socket.wait("WATCHDOG=1", 5, count=len(notify_socket.times("WATCHDOG=1")) + 1), "pings resume with progress"
    svc.request_stop()
    runner.join(20)
    assert not runner.is_alive()


def hung_at(pings_before: list[float]) -> float:
    """A ping may have been on its way while the hang began: count only those after the last one before it."""
    return max(pings_before) + 0.01 if pings_before else 0.0


def _catches(pid: int, sig: signal.Signals) -> bool:
    """Whether the process has a handler for ``sig`` (its SigCgt mask in /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("SigCgt:"):
            return bool(int(line.split()[1], 16) >> (sig - 1) & 1)
    return False


@pytest.mark.slow
def test_a_reload_while_the_daemon_starts_does_not_kill_it(image_ir, image_clips, tmp_path) -> None:
    """SIGHUP as soon as the process handles it, long before the model is compiled: remembered, applied once the
    service exists; the daemon runs on and stops cleanly (a signal's default action killed it, exit 129)."""
    row = _clip(image_clips)
    cfg = tmp_path / "config.yaml"
    cfg.write_text(_config_text(image_clips / row["file"], image_ir, tmp_path))
    proc = _start(cfg, {})
    err = Stderr(proc)
    assert wait_for(lambda: proc.poll() is not None or _catches(proc.pid, signal.SIGHUP), 30)
    proc.send_signal(signal.SIGHUP)
    assert wait_for(lambda: "ready: first frame" in "".join(err.lines) or proc.poll() is not None, 60)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(30) == 0, err.text()[-2000:]
    text = err.text()
    assert "a reload was asked for while starting" in text and "Traceback" not in text, text[-2000:]
    assert text.index("a reload was asked for while starting") < text.index("ready: first frame")


@pytest.mark.slow
def test_sighup_applies_a_valid_config_and_rejects_an_invalid_one(notify_socket, image_ir, image_clips,
                                                                   tmp_path) -> None:
    row = _clip(image_clips)
    cfg = tmp_path / "config.yaml"
    base = _config_text(image_clips / row["file"], image_ir, tmp_path)
    cfg.write_text(base)
    proc = _start(cfg, notify_socket.env(watchdog_s=2))
    err = Stderr(proc)
    assert notify_socket.wait("READY=1", 60), err.text()[-2000:]
    cfg.write_text(base + "counter:\n  set_timeout_s: 25\nlogging:\n  level: debug\n")
    proc.send_signal(signal.SIGHUP)
    time.sleep(0.5)
    cfg.write_text(base + "voting:\n  enter: 2\n  colour: blue\n")  # two problems: still one log line
    proc.send_signal(signal.SIGHUP)
    assert proc.wait(60) == 0  # the file ends: a clean stop
    text = err.text()
    assert "Traceback" not in text
    applied = [line for line in text.splitlines() if "applied: counter, logging changed" in line]
    rejected = [line for line in text.splitlines() if "rejected" in line]
    assert len(applied) == 1, text[-3000:]
    assert len(rejected) == 1 and "voting.enter" in rejected[0] and "voting.colour" in rejected[0]
    assert "DEBUG" in text.split(applied[0])[1], "the new log level applied at once"
    counted = sum('"type":"rep"' in line for line in text.splitlines())
    assert counted == int(row["reps"]) and f"stopped: {row['reps']} reps" in text, "no rep lost across both reloads"
    # systemd 253+ waits for each reload: RELOADING=1 with the monotonic clock, then READY=1 (applied or refused)
    lines = [msg for _, msg in notify_socket.lines]
    reloading = [i for i, msg in enumerate(lines) if msg == "RELOADING=1"]
    assert len(reloading) == 2, lines
    for i in reloading:
        usec = int(lines[i + 1].removeprefix("MONOTONIC_USEC="))
        assert abs(usec / 1e6 - notify_socket.lines[i][0]) < 5, "CLOCK_MONOTONIC, as sd_notify(3) asks"
        assert "READY=1" in lines[i + 2:], "a READY=1 after each"


@pytest.mark.slow
def test_reload_restarts_the_source_and_the_model_stage(image_ir, image_clips, tmp_path) -> None:
    clips = [c for c in counted_rows(image_clips) if int(c["reps"]) >= 1]
    first, second = clips[0], clips[1]
    cfg = tmp_path / "config.yaml"
    cfg.write_text(_config_text(image_clips / first["file"], image_ir, tmp_path, "voting:\n  min_dwell: 3\n"))
    reps: list = []
    ready = threading.Event()

    class Watched(Service):
        def on_event(self, e) -> None:
            super().on_event(e)
            if e.type == "rep":
                reps.append(e)

        def on_ready(self) -> None:
            super().on_ready()
            ready.set()

    svc = Watched(config_mod.load(cfg), config_path=cfg)
    svc.start()
    assert svc.pipe is not None
    old_inference = svc.pipe.classifier
    model_copy = tmp_path / "model-copy"
    shutil.copytree(image_ir.parent if image_ir.suffix == ".xml" else image_ir, model_copy)
    voting_before = svc.pipe.chain.voter
    result = {}
    runner = threading.Thread(target=lambda: result.setdefault("s", svc.run()))
    runner.start()
    assert ready.wait(60)
    cfg.write_text(_config_text(image_clips / second["file"], model_copy, tmp_path, "voting:\n  min_dwell: 2\n"))
    svc.request_reload()
    runner.join(60)
    s = result["s"]
    assert svc.pipe.classifier is not old_inference and svc.pipe.chain.voter is voting_before
    assert svc.pipe.chain.voter.cfg.min_dwell == 2
    assert svc.cfg.source.uri == str(image_clips / second["file"])
    # The first clip was cut at its start, before any rep; the second ran whole.
    assert s.total == int(second["reps"]) == len(reps)
    assert s.frames + s.dropped >= int(second["frames"])


@pytest.mark.slow
def test_sigterm_flushes_the_outbox_and_says_offline(image_ir, image_clips, tmp_path) -> None:

    if mosquitto_path() is None:
        pytest.skip("mosquitto is not installed")
    from homegym.daemon.delivery.outbox import Outbox

    broker = Mosquitto(tmp_path)
    broker.start()
    try:
        row = _clip(image_clips)
        phone = Subscriber(broker.port)
        proc = _start(write_config(tmp_path, image_clips / row["file"], image_ir, broker.port, tmp_path / "state"), {})
        err = Stderr(proc)
        assert wait_for(lambda: any('"type":"rep"' in line for line in err.lines), 60)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
        events = [json.loads(line.split(": ", 1)[1]) for line in err.text().splitlines() if '{"schema":' in line]
        logged = {e["seq"] for e in events if e["type"] in ("rep", "set_end")}
        assert any(e["type"] == "set_end" for e in events), "stopping ends the set, and that event goes out too"

        def delivered() -> set[int]:
            return {json.loads(p)["seq"] for t, p, _ in list(phone.messages) if t in ("gym/reps", "gym/sets")}

        assert wait_for(lambda: delivered() >= logged, 5), "every event counted before SIGTERM reached the phone"
        box = Outbox(tmp_path / "state" / "outbox.sqlite3").open()
        assert box.pending() == [] and box.last_seq == max(logged)
        box.close()
        assert retained(broker.port, "gym/status") == "offline"
        state = json.loads(retained(broker.port, "gym/state") or "{}")
        assert state["set"] is None and state["reps_in_set"] == 0, "the retained state says the set ended"
        reps = [e for e in events if e["type"] == "rep"]
        set_end = next(e for e in events if e["type"] == "set_end")
        assert set_end["frame"] >= max(e["frame"] for e in reps), "set ends carry source frame numbers, like reps"
        assert not [line for line in err.lines if "WARNING" in line and "MQTT disconnected" in line], "a clean stop is no news"
        phone.close()
    finally:
        broker.stop()


def test_notifier_speaks_sd_notify_and_keeps_quiet_without_systemd(notify_socket) -> None:
    n = Notifier({**notify_socket.env(watchdog_s=10), "WATCHDOG_PID": str(os.getpid())})
    assert n.watchdog_interval_s == 5.0
    n.ready("warming up")
    n.watchdog(now=100.0)
    n.watchdog(now=101.0)  # not yet due: half of WatchdogSec
    n.watchdog(now=105.5)
    n.stopping()
    assert notify_socket.wait("STOPPING=1", 5)
    assert [m for _, m in notify_socket.lines] == ["READY=1", "STATUS=warming up", "WATCHDOG=1", "WATCHDOG=1", "STOPPING=1",
                                                   "STATUS=stopping"]
    other = Notifier({**notify_socket.env(watchdog_s=10), "WATCHDOG_PID": "1"})  # the watchdog is another process's
    assert other.watchdog_interval_s is None
    quiet = Notifier({})
    assert not quiet.enabled and quiet.send("READY=1") is False


def test_notifier_reaches_an_abstract_socket() -> None:
    name = f"homegym-test-{os.getpid()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
        s.bind("\0" + name)
        s.settimeout(5)
        Notifier({"NOTIFY_SOCKET": "@" + name}).ready("ok")
        assert s.recv(100) == b"READY=1\nSTATUS=ok"


def test_logs_under_the_journal_carry_priorities_and_no_timestamps() -> None:
    code = ("import logging; from homegym.core import logsetup; logsetup.setup('info', timestamps=True); "
            "logging.getLogger('homegym.x').warning('camera gone'); logging.getLogger('homegym.x').info('ready')")
    r_fd, w_fd = os.pipe()
    st = os.fstat(w_fd)
    proc = subprocess.Popen([sys.executable, "-c", code], stderr=w_fd, env={**os.environ, "JOURNAL_STREAM": f"{st.st_dev}:{st.st_ino}"})
    os.close(w_fd)
    with os.fdopen(r_fd) as f:
        journal = f.read()
    assert proc.wait(30) == 0
    assert journal.splitlines() == ["<4>homegym.x: camera gone", "<6>homegym.x: ready"]
    plain = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)  # a terminal: timestamps of ours
    assert plain.stderr.splitlines()[0].endswith("WARNING homegym.x: camera gone") and plain.stderr[:2] == "20"


@pytest.mark.slow
def test_reload_of_mqtt_settings_reconnects_without_losing_the_count(image_ir, image_clips, tmp_path) -> None:

    if mosquitto_path() is None:
        pytest.skip("mosquitto is not installed")
    broker = Mosquitto(tmp_path)
    broker.start()
    try:
        clip, n = _long_clip(image_clips, tmp_path)
        phone = Subscriber(broker.port, topic="#")
        cfg = write_config(tmp_path, clip, image_ir, broker.port, tmp_path / "state")
        svc = Service(config_mod.load(cfg), config_path=cfg)
        runner = threading.Thread(target=lambda: svc.run())
        runner.start()

        def reps(topic: str) -> list[dict]:
            return [json.loads(p) for t, p, _ in list(phone.messages) if t == topic]

        assert wait_for(lambda: len(reps("gym/reps")) >= 1, 60)
        cfg.write_text(cfg.read_text().replace("mqtt:\n", "mqtt:\n  topic_prefix: home/gym\n"))
        svc.request_reload()
        runner.join(120)
        before, after = reps("gym/reps"), reps("home/gym/reps")
        assert before and after, "reps went out on the old prefix, then on the new one"
        totals = sorted({r["total"] for r in before + after})
        assert totals == list(range(1, n + 1)), "the count went on across the reload, no rep lost or repeated"
        assert [t for t, p, _ in phone.messages if t == "home/gym/status"][-1:] == ["home/gym/status"]
        phone.close()
    finally:
        broker.stop()


def _long_clip(image_clips, tmp_path):
    from test_mqtt import long_clip

    return long_clip(image_clips, tmp_path / "workout.mp4")


@pytest.mark.slow
def test_a_camera_that_is_not_there_says_so_in_the_status(notify_socket, image_ir, tmp_path) -> None:
    cfg = tmp_path / "config.yaml"
    cfg.write_text(f"source:\n  uri: /dev/video99\n  reconnect_initial_s: 0.2\n  reconnect_max_s: 1\n"
                   f"model:\n  path: {image_ir}\nmqtt:\n  enabled: false\nstate:\n  dir: {tmp_path / 'state'}\n")
    proc = _start(cfg, notify_socket.env(watchdog_s=30))
    err = Stderr(proc)
    try:
        assert wait_for(lambda: any("not there yet" in s for s in notify_socket.status()), 30), notify_socket.status()
        line = next(s for s in notify_socket.status() if "not there yet" in s)
        assert line.startswith("STATUS=waiting for the first frame from /dev/video99: not there yet (") and "attempts" in line
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0, err.text()[-2000:]


def test_a_failed_start_stops_what_had_started(image_ir, image_clips, tmp_path) -> None:
    """The live page is listening when MQTT's TLS file turns out to be missing: start() fails in one line, and the page's
    thread and port, the stores and the outbox are all let go again (a daemon that failed to start leaves nothing behind)."""
    import socket

    from homegym.core.errors import UserError
    from homegym.measure.broker import free_port

    port = free_port()
    cfg = config_mod.parse({"source": {"uri": str(image_clips / _clip(image_clips)["file"])}, "model": {"path": str(image_ir)},
                            "mqtt": {"tls_ca_file": str(tmp_path / "missing-ca.pem")}, "state": {"dir": str(tmp_path / "state")},
                            "live": {"enabled": True, "host": "127.0.0.1", "port": port}})
    svc = Service(cfg)
    with pytest.raises(UserError, match="mqtt.tls_ca_file: .*missing-ca.pem"):
        svc.start()
    assert svc.live_server is None and svc.publisher is None and svc.outbox is None and svc.state_store is None
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))  # the page's port is free again
    assert not [t for t in threading.enumerate() if t.name == "live-page"], "the page's thread ended"


def test_a_reload_naming_an_exercise_the_model_lacks_keeps_the_old_config(image_ir, image_clips, tmp_path, caplog) -> None:
    """counter.exercises and voting.per_label are checked against the model before anything is applied; a good one
    applies at once."""
    import logging

    cfg = tmp_path / "config.yaml"
    text = _config_text(image_clips / _clip(image_clips)["file"], image_ir, tmp_path)
    cfg.write_text(text)
    svc = Service(config_mod.load(cfg), config_path=cfg)
    svc.start()
    try:
        assert svc.pipe is not None and svc.pipe.counter.exercises == ("pushup", "squat")
        cfg.write_text(text + "counter:\n  exercises: [squat, lunge]\n")
        with caplog.at_level(logging.ERROR):
            svc.reload()
        assert "counter.exercises: lunge is not an exercise this model counts (it counts pushup, squat)" in caplog.text
        assert svc.cfg.counter.exercises is None and svc.pipe.counter.exercises == ("pushup", "squat")
        cfg.write_text(text + "voting:\n  per_label:\n    pushup_dwn: {min_dwell: 4}\n")
        with caplog.at_level(logging.ERROR):
            svc.reload()
        assert "voting.per_label: pushup_dwn is not a label of this model (its labels: neither, pushup_up" in caplog.text
        assert svc.cfg.voting.per_label == {}
        cfg.write_text(text + "counter:\n  exercises: [squat]\n")
        svc.reload()
        assert svc.pipe.counter.exercises == ("squat",) and svc.pipe.state()["today"] == {"squat": 0}
    finally:
        svc.stop()
