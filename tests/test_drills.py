"""The drill: a real broker stopped three times for about 20 s while reps are counted, the daemon SIGKILLed five
times (some of them while the broker is down), its state folder (a 16 MB tmpfs) filled up for 15 s mid-set and freed,
and a broken config reloaded mid-set. Every event the daemon counted (each is logged as it is numbered) must reach
the phone; duplicates are allowed (at-least-once) and carry their seq, and a seq never names two different events.
The figures are printed for docs/service.md."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import time

import pytest
from support import Stderr, Subscriber, concat_clips, counted_rows, start_daemon, wait_for, write_config

from homegym.measure.broker import Mosquitto, mosquitto_path

pytestmark = pytest.mark.skipif(mosquitto_path() is None, reason="mosquitto is not installed (.ci/run installs it)")


def _small_disk(folder) -> bool:
    """A 16 MB tmpfs on ``folder`` (root only): a disk the drill can fill."""
    folder.mkdir()
    return os.geteuid() == 0 and subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16M,mode=0700", "tmpfs", str(folder)],
                                                capture_output=True).returncode == 0


def _fill(folder) -> None:
    """Write zeros until the disk is full (unbuffered: a buffer the full disk refused would fail again at close)."""
    with open(folder / "filler", "wb", buffering=0) as f:
        try:
            while True:
                f.write(bytes(1 << 16))
        except OSError:
            pass


def _logged_events(logs) -> dict[int, str]:
    """seq -> the event as the daemon logged it when it was numbered (every published event is)."""
    events: dict[int, str] = {}
    for log in logs:
        for line in log.text().splitlines():
            body = line[line.find("{"):] if '"seq":' in line else ""
            if body.startswith("{") and ('"type":"rep"' in body or '"type":"set_end"' in body):
                event = json.loads(body)
                assert events.setdefault(event["seq"], body) == body, f"seq {event['seq']} names two events"
    return events


@pytest.mark.slow
def test_broker_outages_kills_a_full_disk_and_a_broken_reload_lose_no_counted_rep(image_ir, image_clips, tmp_path) -> None:
    clip = tmp_path / "workout.mp4"
    concat_clips(image_clips, [c for c in counted_rows(image_clips) if int(c["reps"]) >= 1] * 3, clip)  # 150 s, in real time
    state = tmp_path / "state"
    if not _small_disk(state):
        pytest.skip("mounting a tmpfs needs root (the drill fills the state folder's disk)")
    (tmp_path / "broker").mkdir()
    broker = Mosquitto(tmp_path / "broker")
    broker.start()
    cfg = write_config(tmp_path, clip, image_ir, broker.port, state, mqtt_extra="  stats_interval_s: 2\n")
    good = cfg.read_text()
    phone = Subscriber(broker.port, client_id="drill-phone")
    logs: list[Stderr] = []
    daemon = None

    def start() -> None:
        nonlocal daemon
        daemon = start_daemon(cfg)
        logs.append(Stderr(daemon))

    def kill() -> None:
        assert daemon is not None
        daemon.send_signal(signal.SIGKILL)
        daemon.wait(10)

    outages = kills = fills = reloads = 0
    try:
        start()
        assert wait_for(lambda: len(phone.reps()) >= 1, 60), logs[-1].text()[-2000:]
        for step in ("outage", "kill", "full disk", "outage+kill", "broken reload", "kill", "outage+kill", "kill"):
            time.sleep(6)
            if step == "full disk":
                _fill(state)
                fills += 1
                assert wait_for(lambda: "cannot write" in "".join(logs[-1].lines), 30), "a rep came while the disk was full"
                assert wait_for(lambda: any(json.loads(p).get("unwritten", 0) > 0 for t, p, _ in list(phone.messages)
                                            if t == "gym/stats"), 10), "gym/stats says so"
                (state / "filler").unlink()
                assert wait_for(lambda: "writing again" in "".join(logs[-1].lines), 30)
            if step == "broken reload":
                cfg.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
                assert daemon is not None
                daemon.send_signal(signal.SIGHUP)
                assert wait_for(lambda: "rejected" in "".join(logs[-1].lines), 20)
                cfg.write_text(good)
                reloads += 1
                assert daemon.poll() is None, "the daemon counts on with the old config"
            if "outage" in step:
                broker.stop()
                outages += 1
                time.sleep(8 if "kill" in step else 20)
            if "kill" in step:
                kill()
                kills += 1
                start()
            if "outage" in step:
                time.sleep(12 if "kill" in step else 0)
                broker.start()
        time.sleep(6)

        def undelivered() -> int:
            with sqlite3.connect(str(tmp_path / "state" / "outbox.sqlite3")) as db:
                n: int = db.execute("SELECT COUNT(*) FROM events WHERE delivered IS NULL").fetchone()[0]
            return n

        assert wait_for(lambda: undelivered() == 0, 60), "the backlog drains once the broker is back"
        assert daemon is not None
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(60) == 0, logs[-1].text()[-2000:]
        events = _logged_events(logs)
        counted = set(events)

        def received() -> list[tuple[int, str]]:
            return [(json.loads(p)["seq"], p) for t, p, _ in list(phone.messages) if t in ("gym/reps", "gym/sets")]

        assert wait_for(lambda: counted <= {seq for seq, _ in received()}, 30)
        got = received()
        seqs = [seq for seq, _ in got]
        lost = len(counted - set(seqs))
        duplicated = len(seqs) - len(set(seqs))
        print(f"\ndrill: {outages} broker outages, {kills} SIGKILLs, {fills} full disk, {reloads} broken reload: "
              f"{len(counted)} events counted ({len(set(seqs))} delivered, {lost} lost, {duplicated} duplicates dropped by seq)")
        assert (outages, kills, fills, reloads) == (3, 5, 1, 1)
        assert len(counted) >= 10 and lost == 0
        assert set(seqs) <= counted, "nothing delivered that was not counted"
        assert all(payload == events[seq] for seq, payload in got), "a seq delivered twice is the same event twice"
        assert all("Traceback" not in log.text() for log in logs)
    finally:
        phone.close()
        if daemon is not None and daemon.poll() is None:
            daemon.kill()
            daemon.wait(10)
        broker.stop()
        subprocess.run(["umount", "-l", str(state)], capture_output=True)
