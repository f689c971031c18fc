"""MQTT against a real Mosquitto broker that each test starts on a free port."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import pytest
from support import Stderr, Subscriber, concat_clips, counted_rows, one_line_error, retained, run_cli, start_daemon, wait_for, write_config

from homegym.measure.broker import Mosquitto, mosquitto_path

pytestmark = pytest.mark.skipif(mosquitto_path() is None, reason="mosquitto is not installed (.ci/run installs it)")
Broker = Mosquitto


@pytest.fixture
def broker(tmp_path):
    b = Broker(tmp_path)
    b.start()
    yield b
    b.stop()


@pytest.mark.slow
def test_subscriber_receives_exactly_the_reps_with_state_and_status(broker, image_ir, image_clips, tmp_path) -> None:
    row = next(c for c in counted_rows(image_clips) if int(c["reps"]) >= 2)
    from homegym.daemon.delivery.outbox import Outbox

    earlier = Outbox(tmp_path / "state" / "outbox.sqlite3").open()  # earlier sessions: seq 1..5, all delivered
    for _ in range(5):
        earlier.mark_delivered(earlier.add("gym/reps", str))
    earlier.close()
    phone = Subscriber(broker.port)
    cfg = write_config(tmp_path, image_clips / row["file"], image_ir, broker.port, tmp_path / "state")
    d = start_daemon(cfg)
    assert wait_for(lambda: phone.last("gym/status") == "online", 30)
    _, err = d.communicate(timeout=60)  # the file ends: a clean stop
    assert d.returncode == 0, err[-2000:]
    assert wait_for(lambda: phone.last("gym/status") == "offline", 10)
    reps = phone.reps()
    assert len(reps) == int(row["reps"]) and [r["rep"] for r in reps] == list(range(1, len(reps) + 1))
    assert reps[0]["seq"] == 6 and all(a["seq"] < b["seq"] for a, b in zip(reps, reps[1:]))
    logged = [json.loads(line.split(": ", 1)[1]) for line in err.splitlines() if '"type":"rep"' in line]
    assert [r["seq"] for r in logged] == [r["seq"] for r in reps], "the journal shows the seq the phone sees"
    assert {r["exercise"] for r in reps} == {row["exercise"]} and all(r["schema"] == 1 for r in reps)
    state = json.loads(retained(broker.port, "gym/state"))
    assert state["total_today"] == len(reps) and state["today"][row["exercise"]] == len(reps)
    assert retained(broker.port, "gym/status") == "offline"
    sets = [json.loads(p) for t, p, _ in phone.messages if t == "gym/sets"]
    assert len(sets) == 1 and sets[0]["reps"] == len(reps)
    phone.close()


def long_clip(image_clips, out: Path) -> tuple[Path, int]:
    """The counted rep clips of one exercise back to back: a longer workout with a known count."""
    clips = [c for c in counted_rows(image_clips) if int(c["reps"]) >= 1]
    ex = max({c["exercise"] for c in clips}, key=lambda e: sum(int(c["reps"]) for c in clips if c["exercise"] == e))
    clips = [c for c in clips if c["exercise"] == ex]
    concat_clips(image_clips, clips, out)
    return out, sum(int(c["reps"]) for c in clips)


def dedupe(reps: list[dict]) -> list[dict]:
    seen, out = set(), []
    for r in reps:
        if r["seq"] not in seen:
            seen.add(r["seq"])
            out.append(r)
    return sorted(out, key=lambda r: r["seq"])


@pytest.mark.slow
def test_broker_restart_mid_clip_loses_no_rep(broker, image_ir, image_clips, tmp_path) -> None:
    clip, n = long_clip(image_clips, tmp_path / "workout.mp4")
    assert n >= 3
    phone = Subscriber(broker.port)
    d = start_daemon(write_config(tmp_path, clip, image_ir, broker.port, tmp_path / "state"))
    log = Stderr(d)
    assert wait_for(lambda: len(phone.reps()) >= 1, 60), "no rep before the outage"
    broker.stop()
    outage_start = log.reps()
    time.sleep(3)
    broker.start()
    assert d.wait(120) == 0, "".join(log.lines)[-2000:]
    assert outage_start < n, "some reps are counted after the outage began, so they had to wait for the broker"
    assert wait_for(lambda: len(dedupe(phone.reps())) >= n, 20)
    reps = dedupe(phone.reps())
    assert len(reps) == n and [r["total"] for r in reps] == list(range(1, n + 1))
    phone.close()


@pytest.mark.slow
def test_sigkill_with_unacknowledged_reps_then_restart_delivers_them(broker, image_ir, image_clips, tmp_path) -> None:
    row = next(c for c in counted_rows(image_clips) if int(c["reps"]) >= 2)
    k = int(row["reps"])
    cfg = write_config(tmp_path, image_clips / row["file"], image_ir, broker.port, tmp_path / "state")
    broker.stop()  # the broker is away: the reps can only wait in the outbox
    d = start_daemon(cfg)
    log = Stderr(d)
    assert wait_for(lambda: log.reps() >= 1, 60)
    d.send_signal(signal.SIGKILL)
    d.wait(10)
    counted = log.reps()
    broker.start()
    phone = Subscriber(broker.port)
    d2 = start_daemon(cfg)  # the same clip again: its reps follow the undelivered ones
    assert d2.wait(120) == 0
    assert wait_for(lambda: len(dedupe(phone.reps())) >= counted + k, 20)
    reps = dedupe(phone.reps())
    assert [r["seq"] for r in reps] == list(range(1, counted + k + 1)), "seq continues across the restart, none lost"
    assert reps[-1]["total"] == counted + k, "today's total survived the restart"
    phone.close()


@pytest.mark.slow
def test_last_will_says_offline_when_the_daemon_dies(broker, image_ir, image_clips, tmp_path) -> None:
    row = next(c for c in counted_rows(image_clips) if int(c["reps"]) >= 1)
    phone = Subscriber(broker.port)
    d = start_daemon(write_config(tmp_path, image_clips / row["file"], image_ir, broker.port, tmp_path / "state"))
    assert wait_for(lambda: phone.last("gym/status") == "online", 30)
    d.send_signal(signal.SIGKILL)
    d.wait(10)
    assert wait_for(lambda: phone.last("gym/status") == "offline", 15)
    assert retained(broker.port, "gym/status") == "offline"
    phone.close()


def publish(port: int, topic: str, payload: str) -> None:
    import paho.mqtt.publish as pub

    pub.single(topic, payload, qos=1, hostname="127.0.0.1", port=port)


@pytest.mark.slow
def test_commands_stats_and_home_assistant_discovery(broker, image_ir, image_clips, tmp_path) -> None:
    clip, n = long_clip(image_clips, tmp_path / "workout.mp4")
    phone = Subscriber(broker.port)
    ha = Subscriber(broker.port, client_id="ha", topic="homeassistant/#")
    cfg = write_config(tmp_path, clip, image_ir, broker.port, tmp_path / "state", "  stats_interval_s: 1\n  commands: true\n")
    d = start_daemon(cfg)
    log = Stderr(d)
    assert wait_for(lambda: len(phone.reps()) >= 1, 60)
    publish(broker.port, "gym/cmd/reset", "day")
    assert wait_for(lambda: json.loads(phone.last("gym/state") or "{}").get("total_today") == 0, 10), "reset day zeroes today's total"
    before_reset = {r["seq"] for r in phone.reps()}
    before = len(ha.messages)
    publish(broker.port, "homeassistant/status", "online")
    assert wait_for(lambda: len(ha.messages) >= before + 3, 10), "discovery is sent again when Home Assistant comes online"
    publish(broker.port, "gym/cmd/exercise", "nonsense")
    import paho.mqtt.publish as pub

    flood_from = len(log.lines)
    pub.multiple([{"topic": "gym/cmd/reset", "payload": "bogus", "qos": 1}] * 90, hostname="127.0.0.1", port=broker.port)
    assert wait_for(lambda: any("reset" in line for line in log.lines[flood_from:]), 10)
    assert d.wait(120) == 0, "".join(log.lines)[-2000:]
    flood = [line for line in log.lines[flood_from:] if "reset" in line or "ignored commands" in line]
    assert 1 <= len(flood) <= 6, flood  # 90 bad commands: a line per kind every 10 s, saying how many were held back
    after_reset = [r for r in dedupe(phone.reps()) if r["seq"] not in before_reset]
    assert after_reset and after_reset[0]["total"] == 1, "the first rep after a reset of the day is today's first"
    assert any("cmd/exercise: expected 'auto' or one of" in line for line in log.lines)
    stats = json.loads(phone.last("gym/stats"))
    assert stats["fps_in"] > 0 and stats["fps_inferred"] > 0 and "infer_latency_ms" in stats and "outbox_pending" in stats
    configs = {t: json.loads(p) for t, p, _ in ha.messages if t.endswith("/config") and p}
    assert {t.split("/")[1] for t in configs} == {"sensor", "event"} and len(configs) == 9, sorted(configs)
    assert {t.split("/")[3] for t in configs} == {"total_today", "exercise", "rep", "pushup_today", "squat_today", "pushup_week",
                                                  "squat_week", "last_set", "last_set_end"}
    week = configs["homeassistant/sensor/homegym/pushup_week/config"]
    assert (week["state_topic"], week["unit_of_measurement"], week["state_class"]) == ("gym/history", "reps", "total_increasing")
    end = configs["homeassistant/sensor/homegym/last_set_end/config"]
    assert end["device_class"] == "timestamp" and "ended_at" in end["value_template"]
    last = configs["homeassistant/sensor/homegym/last_set/config"]
    assert last["json_attributes_topic"] == "gym/history" and last["unit_of_measurement"] == "reps"
    summary = json.loads(phone.last("gym/history") or "{}")  # retained, what those sensors read
    assert set(summary) == {"weeks", "this_week", "bests", "last_set"} and len(summary["weeks"]) == 8
    assert summary["last_set"]["reps"] >= 1 and summary["last_set"]["ended_at"].endswith("+00:00")
    assert sum(summary["this_week"].values()) >= summary["last_set"]["reps"]
    for c in configs.values():
        assert c["availability_topic"] == "gym/status" and c["device"]["identifiers"] == ["homegym_homegym"]
    assert retained(broker.port, "homeassistant/sensor/homegym/total_today/config") is not None
    phone.close()
    ha.close()


@pytest.mark.slow
def test_forced_exercise_ignores_the_other(broker, image_ir, image_clips, tmp_path) -> None:
    row = next(c for c in counted_rows(image_clips) if int(c["reps"]) >= 2)
    other = "squat" if row["exercise"] == "pushup" else "pushup"
    phone = Subscriber(broker.port)
    publish(broker.port, "gym/cmd/exercise", other)  # not retained: sent after the daemon subscribed, below
    d = start_daemon(write_config(tmp_path, image_clips / row["file"], image_ir, broker.port, tmp_path / "state",
                                  "  commands: true\n"))
    assert wait_for(lambda: phone.last("gym/status") == "online", 30)
    publish(broker.port, "gym/cmd/exercise", other)
    assert d.wait(120) == 0
    assert phone.reps() == [], f"a {row['exercise']} clip counted while the exercise was forced to {other}"
    phone.close()


@pytest.mark.slow
@pytest.mark.parametrize("commands", [False, True], ids=["commands off (default)", "commands on"])
def test_retained_and_disabled_commands_are_not_obeyed(broker, image_ir, image_clips, tmp_path, commands: bool) -> None:
    """A retained gym/cmd/reset 'day' would zero today's totals at every start: it is ignored, and with commands off
    (the default) so is every command."""
    import paho.mqtt.publish as pub

    row = next(c for c in counted_rows(image_clips) if int(c["reps"]) >= 2)
    pub.single("gym/cmd/reset", "day", qos=1, retain=True, hostname="127.0.0.1", port=broker.port)
    phone = Subscriber(broker.port)
    extra = "  commands: true\n" if commands else ""
    d = start_daemon(write_config(tmp_path, image_clips / row["file"], image_ir, broker.port, tmp_path / "state", extra))
    log = Stderr(d)
    assert wait_for(lambda: phone.last("gym/status") == "online", 30)
    publish(broker.port, "gym/cmd/reset", "day")  # not retained: obeyed only when commands are on
    assert d.wait(120) == 0, log.text()[-2000:]
    text = log.text()
    totals = [r["total"] for r in dedupe(phone.reps())]
    assert len(totals) == int(row["reps"])
    assert ("ignored a retained command on gym/cmd/reset" in text) == commands
    assert ("command reset 'day'" in text) == commands
    assert totals == list(range(1, len(totals) + 1)) or commands, "with commands off nothing reset the count"
    phone.close()


@pytest.mark.slow
def test_a_flood_of_commands_cannot_flood_the_log(broker, image_ir, image_clips, tmp_path) -> None:
    """10 MB payloads and thousands of commands a second: bounded payloads, shortened in the log, warnings rate-limited."""
    import paho.mqtt.client as mqtt

    clip, _ = long_clip(image_clips, tmp_path / "workout.mp4")
    d = start_daemon(write_config(tmp_path, clip, image_ir, broker.port, tmp_path / "state", "  commands: true\n"))
    log = Stderr(d)
    phone = Subscriber(broker.port)
    assert wait_for(lambda: phone.last("gym/status") == "online", 30)
    attacker = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="attacker")
    attacker.connect("127.0.0.1", broker.port)
    attacker.loop_start()
    attacker.publish("gym/cmd/exercise", "x" * 10_000_000, qos=1).wait_for_publish(30)
    for _ in range(5000):
        attacker.publish("gym/cmd/exercise", "nonsense", qos=0)
    time.sleep(3)
    attacker.loop_stop()
    attacker.disconnect()
    d.send_signal(signal.SIGTERM)
    assert d.wait(60) == 0
    lines = log.text().splitlines()
    about_commands = [line for line in lines if "cmd/exercise" in line or "command" in line]
    assert len(about_commands) < 100, f"{len(about_commands)} lines about commands"
    assert max(len(line) for line in lines) < 2000, "no payload logged in full"
    assert any("of 10000000 bytes (at most 64)" in line for line in about_commands)
    assert any("ignored commands: more than 20 a second" in line for line in about_commands)
    phone.close()


@pytest.mark.slow
def test_wrong_password_is_a_clear_error_right_one_delivers(tmp_path, image_ir, image_clips) -> None:
    pw = tmp_path / "passwd"
    subprocess.run(["mosquitto_passwd", "-c", "-b", str(pw), "gym", "s3cret"], check=True, capture_output=True)
    b = Broker(tmp_path, f"password_file {pw}\n", anonymous=False)
    b.start()
    try:
        row = next(c for c in counted_rows(image_clips) if int(c["reps"]) >= 1)
        phone = Subscriber(b.port, auth=("gym", "s3cret"))
        bad = tmp_path / "bad"
        bad.write_text("wrong\n")
        cfg = write_config(tmp_path, image_clips / row["file"], image_ir, b.port, tmp_path / "state1",
                           f"  username: gym\n  password_file: {bad}\n")
        d = start_daemon(cfg)
        _, err = d.communicate(timeout=120)
        assert d.returncode == 0
        refused = [line for line in err.splitlines() if "refused the connection" in line]
        assert refused and all("Not authorized" in line or "password" in line.lower() for line in refused), err[-1500:]
        assert [int(line.split("(attempt ")[1].split(";")[0]) for line in refused] == list(range(1, len(refused) + 1))
        assert '"type":"rep"' in err, "counting went on while the broker refused us"
        assert phone.reps() == []
        good = tmp_path / "good"
        good.write_text("s3cret\n")
        cfg = write_config(tmp_path, image_clips / row["file"], image_ir, b.port, tmp_path / "state2",
                           f"  username: gym\n  password_file: {good}\n")
        assert start_daemon(cfg).wait(120) == 0
        assert wait_for(lambda: len(dedupe(phone.reps())) == int(row["reps"]), 10)
        phone.close()
    finally:
        b.stop()


def make_ca(d: Path) -> tuple[Path, Path, Path]:
    """A test CA and a server certificate for localhost, made with openssl."""
    def ossl(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=d)

    ossl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj",
         "/CN=homegym test CA")
    ossl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost")
    (d / "san.cnf").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    ossl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.crt",
         "-days", "2", "-extfile", "san.cnf")
    return d / "ca.crt", d / "server.crt", d / "server.key"


@pytest.mark.slow
def test_tls_listener_with_a_test_ca_and_an_untrusted_one(tmp_path, image_ir, image_clips) -> None:
    ca, crt, key = make_ca(tmp_path)
    b = Broker(tmp_path, f"cafile {ca}\ncertfile {crt}\nkeyfile {key}\n")
    b.start()
    try:
        row = next(c for c in counted_rows(image_clips) if int(c["reps"]) >= 1)
        phone = Subscriber(b.port, ca=ca, host="localhost")
        (tmp_path / "other").mkdir()
        other_ca, _, _ = make_ca(tmp_path / "other")
        cfg = write_config(tmp_path, image_clips / row["file"], image_ir, b.port, tmp_path / "state0",
                           f"  host: localhost\n  tls_ca_file: {other_ca}\n")
        d = start_daemon(cfg)
        _, err = d.communicate(timeout=120)
        assert d.returncode == 0 and '"type":"rep"' in err, err[-1500:]
        untrusted = [line for line in err.splitlines() if "unreachable" in line]
        assert untrusted and all("untrusted certificate" in line for line in untrusted), err[-1500:]
        assert phone.reps() == []
        cfg = write_config(tmp_path, image_clips / row["file"], image_ir, b.port, tmp_path / "state1", "  host: localhost\n")
        _, err = start_daemon(cfg).communicate(timeout=120)  # a plain client on the TLS port
        plain = [line for line in err.splitlines() if "closed the connection before accepting it" in line]
        assert plain and all("the port speaks TLS: set mqtt.tls_ca_file" in line for line in plain), err[-1500:]
        cfg = write_config(tmp_path, image_clips / row["file"], image_ir, b.port, tmp_path / "state",
                           f"  host: localhost\n  tls_ca_file: {ca}\n  qos: 2\n")
        d = start_daemon(cfg)
        _, err = d.communicate(timeout=120)
        assert d.returncode == 0, err[-1500:]
        assert wait_for(lambda: len(dedupe(phone.reps())) == int(row["reps"]), 10), err[-1500:]
        phone.close()
    finally:
        b.stop()


@pytest.mark.slow
def test_tls_with_a_client_certificate(tmp_path, image_ir, image_clips) -> None:
    ca, crt, key = make_ca(tmp_path)
    subprocess.run(["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "client.key", "-out", "client.csr",
                    "-subj", "/CN=homegym"], check=True, capture_output=True, cwd=tmp_path)
    subprocess.run(["openssl", "x509", "-req", "-in", "client.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
                    "-out", "client.crt", "-days", "2"], check=True, capture_output=True, cwd=tmp_path)
    b = Broker(tmp_path, f"cafile {ca}\ncertfile {crt}\nkeyfile {key}\nrequire_certificate true\n")
    b.start()
    try:
        row = next(c for c in counted_rows(image_clips) if int(c["reps"]) >= 1)
        phone = Subscriber(b.port, ca=ca, host="localhost", cert=(tmp_path / "client.crt", tmp_path / "client.key"))
        cfg = write_config(tmp_path, image_clips / row["file"], image_ir, b.port, tmp_path / "state",
                           f"  host: localhost\n  tls_ca_file: {ca}\n  tls_certfile: {tmp_path / 'client.crt'}\n"
                           f"  tls_keyfile: {tmp_path / 'client.key'}\n")
        d = start_daemon(cfg)
        _, err = d.communicate(timeout=120)
        assert d.returncode == 0, err[-1500:]
        assert wait_for(lambda: len(dedupe(phone.reps())) == int(row["reps"]), 10), err[-1500:]
        phone.close()
    finally:
        b.stop()


@pytest.mark.parametrize(("lines", "message"), [
    ("  tls_ca_file: {tmp}/missing-ca.crt\n", "mqtt.tls_ca_file: {tmp}/missing-ca.crt: No such file or directory"),
    ("  tls_ca_file: {tmp}/garbage.crt\n", "mqtt.tls_ca_file: {tmp}/garbage.crt: not a CA certificate in PEM form"),
    ("  tls_ca_file: {tmp}/ca.crt\n  tls_certfile: {tmp}/nope.crt\n  tls_keyfile: {tmp}/nope.key\n",
     "mqtt.tls_certfile: {tmp}/nope.crt: No such file or directory"),
    ("  tls_ca_file: {tmp}/ca.crt\n  tls_certfile: {tmp}/garbage.crt\n  tls_keyfile: {tmp}/garbage.crt\n",
     "mqtt.tls_certfile: {tmp}/garbage.crt with mqtt.tls_keyfile {tmp}/garbage.crt: not a certificate and its key"),
])
def test_tls_file_errors_name_their_key(tmp_path, image_ir, lines: str, message: str) -> None:
    (tmp_path / "garbage.crt").write_text("this is not a certificate\n")
    make_ca(tmp_path)
    cfg = tmp_path / "config.yaml"
    cfg.write_text(f"source:\n  uri: {tmp_path / 'none.mp4'}\nmodel:\n  path: {image_ir}\nstate:\n  dir: {tmp_path / 'state'}\n"
                   f"mqtt:\n  port: 8883\n" + lines.format(tmp=tmp_path))
    line = one_line_error(run_cli("run", "--config", str(cfg)))
    assert message.format(tmp=tmp_path) in line, line


@pytest.mark.slow
def test_partial_reps_go_out_on_their_own_topic_with_a_seq(broker, image_ir, image_clips, tmp_path) -> None:
    """Reps faster than counter.min_rep_s are partial: not on gym/reps, but on gym/partials, numbered like the reps."""
    row = next(c for c in counted_rows(image_clips) if int(c["reps"]) >= 2)
    phone = Subscriber(broker.port)
    cfg = write_config(tmp_path, image_clips / row["file"], image_ir, broker.port, tmp_path / "state")
    cfg.write_text(cfg.read_text() + "counter:\n  min_rep_s: 8\n  max_rep_s: 10\n  per_exercise: {}\n")
    d = start_daemon(cfg)
    log = Stderr(d)
    assert d.wait(120) == 0, log.text()[-2000:]
    assert wait_for(lambda: any(t == "gym/partials" for t, _, _ in list(phone.messages)), 10), log.text()[-2000:]
    partials = [json.loads(p) for t, p, _ in list(phone.messages) if t == "gym/partials"]
    assert phone.reps() == [] and len(partials) >= int(row["reps"]) - 1
    assert all(p["type"] == "partial" and p["reason"] == "too_fast" and p["seq"] >= 1 for p in partials), partials
    assert len({p["seq"] for p in partials}) == len(partials)
    phone.close()


# -- rendered squats 15 degrees above parallel, through the daemon and a real Mosquitto ----------------------------------

DEFAULT_MODEL = Path(__file__).parents[1] / "daemon" / "models" / "default"
SHALLOW_SEED = 302  # a side view whose figure the pose stage reads as drawn (docs/form.md: how often it does)


@pytest.fixture(scope="module")
def shallow_squats(tmp_path_factory) -> tuple[Path, int]:
    from homegym.train.synth import render_clip

    r = render_clip(tmp_path_factory.mktemp("shallow"), "squat", SHALLOW_SEED, duration=10, fps=15, size=(640, 480),
                    squat_depth=-15, view="side")
    assert r.video is not None and len(r.reps) == 5 and not r.partial_reps
    return r.video, len(r.reps)


def run_daemon(tmp_path: Path, clip: Path, port: int, extra: str = "") -> Subscriber:
    phone = Subscriber(port)
    cfg = write_config(tmp_path, clip, DEFAULT_MODEL, port, tmp_path / "state")
    cfg.write_text(cfg.read_text() + extra)
    d = start_daemon(cfg)
    log = Stderr(d)
    assert d.wait(120) == 0, log.text()[-2000:]
    assert wait_for(lambda: phone.last("gym/status") == "offline", 10)
    phone.close()
    return phone


@pytest.mark.slow
def test_squats_above_parallel_are_counted_and_flagged_on_gym_reps(broker, shallow_squats, tmp_path) -> None:
    clip, rendered = shallow_squats
    phone = run_daemon(tmp_path, clip, broker.port)
    reps = phone.reps()
    assert len(reps) == rendered, reps
    for r in reps:
        assert r["full"] is False and r["joint"] == "knee" and r["short"][0]["key"] == "thigh_min", r
        assert -25 < r["short"][0]["value"] < -10 and r["turn_deg"] < r["start_deg"] and r["to_turn_s"] > 0, r
    sets = [json.loads(p) for t, p, _ in phone.messages if t == "gym/sets"]
    assert sets and sets[-1]["full_reps"] == 0 and sets[-1]["avg_travel_deg"] > 60
    last = json.loads(phone.last("gym/history") or "{}")["last_set"]  # Home Assistant's last-set attributes
    assert last["full_reps"] == 0 and last["avg_to_turn_s"] == sets[-1]["avg_to_turn_s"] and last["reps"] == rendered


@pytest.mark.slow
def test_with_count_short_off_they_are_partials_with_the_reason_and_no_reps(broker, shallow_squats, tmp_path) -> None:
    clip, rendered = shallow_squats
    phone = run_daemon(tmp_path, clip, broker.port, "form:\n  count_short: false\n")
    partials = [json.loads(p) for t, p, _ in phone.messages if t == "gym/partials"]
    assert phone.reps() == []
    short = [p for p in partials if p["reason"] == "short"]
    assert len(short) == rendered, partials
    assert all(p["full"] is False and p["short"][0]["key"] == "thigh_min" and p["seq"] >= 1 for p in short)
