"""The drill: a real broker stopped three times for about 20 s while reps are counted, and the daemon SIGKILLed five
times (some of them while the broker is down). Every event the daemon counted (stored in its outbox) must reach the
phone; duplicates are allowed (at-least-once) and carry their seq. The figures are printed for docs/service.md."""

from __future__ import annotations

import json
import signal
import sqlite3
import time

import pytest
from support import Stderr, Subscriber, concat_clips, counted_rows, start_daemon, wait_for, write_config

from homegym.measure.broker import Mosquitto, mosquitto_path

pytestmark = pytest.mark.skipif(mosquitto_path() is None, reason="mosquitto is not installed (.ci/run installs it)")


@pytest.mark.slow
def test_broker_outages_and_kills_lose_no_counted_rep(image_ir, image_clips, tmp_path) -> None:
    clip = tmp_path / "workout.mp4"
    concat_clips(image_clips, [c for c in counted_rows(image_clips) if int(c["reps"]) >= 1] * 3, clip)  # 150 s, in real time
    (tmp_path / "broker").mkdir()
    broker = Mosquitto(tmp_path / "broker")
    broker.start()
    cfg = write_config(tmp_path, clip, image_ir, broker.port, tmp_path / "state")
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

    outages = kills = 0
    try:
        start()
        assert wait_for(lambda: len(phone.reps()) >= 1, 60), logs[-1].text()[-2000:]
        for step in ("outage", "kill", "outage+kill", "kill", "outage+kill", "kill"):
            time.sleep(6)
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
        db = sqlite3.connect(str(tmp_path / "state" / "outbox.sqlite3"))
        counted = {seq for (seq,) in db.execute("SELECT seq FROM events")}
        db.close()

        def received() -> list[int]:
            return [json.loads(p)["seq"] for t, p, _ in list(phone.messages) if t in ("gym/reps", "gym/sets")]

        assert wait_for(lambda: counted <= set(received()), 30)
        got = received()
        lost = len(counted - set(got))
        duplicated = len(got) - len(set(got))
        print(f"\ndrill: {outages} broker outages, {kills} SIGKILLs: {len(counted)} events counted "
              f"({len(set(got))} delivered, {lost} lost, {duplicated} duplicates dropped by seq)")
        assert (outages, kills) == (3, 5)
        assert len(counted) >= 10 and lost == 0
        assert set(got) <= counted, "nothing delivered that was not counted"
        assert all("Traceback" not in log.text() for log in logs)
    finally:
        phone.close()
        if daemon is not None and daemon.poll() is None:
            daemon.kill()
        broker.stop()
