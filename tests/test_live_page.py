"""The live page without a browser: placement sentences, the hand-off that costs nothing unwatched, the config, and
``homegym run`` serving it for real (the token, the JSON, the events, the picture, ``homegym status``)."""

from __future__ import annotations

import json
import re
import signal
import urllib.error
import urllib.request

import cv2
import numpy as np
import pytest
from support import ROOT, Stderr, live_config, one_line_error, run_cli, start_daemon, wait_for, wait_http

from homegym.core.letterbox import Box, Letterbox
from homegym.daemon.config import settings as config_mod
from homegym.daemon.config.settings import LiveConfig
from homegym.daemon.live.placement import ALL_SET, DARK_HINT, HEAD_ON_HINT, NOBODY, Placement, brightness, cut_off, head_on
from homegym.daemon.live.view import LiveView
from homegym.daemon.pipeline.observer import FrameView
from homegym.daemon.pose.stage import Pose
from homegym.measure.broker import free_port

# -- placement, on poses made by hand -----------------------------------------------------------------------------


def standing(feet_y: float = 0.9, head_y: float = 0.1, facing: bool = True) -> Pose:
    """A person standing in the middle of a square canvas; the shoulder line across the picture (facing) or along
    its depth (side on)."""
    lm = np.zeros((33, 4), np.float32)
    lm[:, 3] = 0.9
    ys = np.linspace(head_y, feet_y, 33)
    lm[:, 0], lm[:, 1] = 0.5, ys
    lm[0:11, 1] = head_y
    lm[27:33, 1] = feet_y
    world = np.zeros((33, 3), np.float32)
    world[[11, 12], 1] = -0.5  # shoulders above the hips (y down)
    across = 0 if facing else 2
    world[11, across], world[12, across] = 0.2, -0.2
    return Pose(True, lm, world, 0.99, None, False)


def plank(facing: bool) -> Pose:
    pose = standing(facing=facing)
    w = pose.world.copy()
    w[[11, 12], 1] = 0.0
    w[[11, 12], 2 if facing else 0] = -0.5  # the shoulders ahead of the hips, level with them
    return Pose(True, pose.landmarks, w, 0.99, None, False)


def test_the_whole_body_in_frame_is_all_set_and_cut_off_feet_are_named() -> None:
    assert cut_off(standing(), None, 0) is None
    feet = cut_off(standing(feet_y=1.12), None, 0)
    assert feet is not None and feet.text == "Move the camera back or tilt it down: your feet are out of frame."
    head = cut_off(standing(head_y=-0.1), None, 0)
    assert head is not None and head.text == "Move the camera back or tilt it up: your head is out of frame."
    both = cut_off(standing(head_y=-0.1, feet_y=1.1), None, 0)
    assert both is not None and both.text == "Move the camera back: your head and feet are out of frame."


def test_out_of_frame_is_judged_on_the_cameras_frame_not_the_letterboxed_canvas() -> None:
    """A 640x480 frame on a 512 canvas lies in y 64..448: feet at 0.92 of the canvas are below the frame."""
    lb = Letterbox(512)
    box = lb.box_for(480, 640)
    assert box == Box(0, 64, 512, 384)
    feet = cut_off(standing(feet_y=0.92, head_y=0.2), box, 512)
    assert feet is not None and feet.code == "cut_feet"
    assert cut_off(standing(feet_y=0.85, head_y=0.15), box, 512) is None


def test_a_head_on_view_is_flagged_for_push_ups_only() -> None:
    assert head_on(plank(facing=True)) and not head_on(plank(facing=False))
    assert not head_on(standing(facing=True)), "squats count from the front: a standing person facing the camera is fine"


def test_darkness_is_measured_on_the_frame_not_the_black_bars() -> None:
    canvas = np.zeros((512, 512, 3), np.uint8)
    canvas[64:448] = 120
    assert brightness(canvas, Box(0, 64, 512, 384)) == pytest.approx(120, abs=1)
    assert brightness(canvas, None) < 100


def test_a_hint_shows_once_it_held_for_most_checks_and_one_bad_frame_never_flips_it() -> None:
    p = Placement()
    t = 0.0
    for _ in range(4):
        hints = p.check(t, standing(), None, 0, 120.0)
        t += 1
    assert hints == (ALL_SET,)
    assert p.check(t, Pose.missing(), None, 0, 120.0) == (ALL_SET,), "one frame without the person"
    for _ in range(3):
        t += 1
        hints = p.check(t, Pose.missing(), None, 0, 20.0)
    assert set(hints) == {NOBODY, DARK_HINT}
    for _ in range(3):
        t += 1
        hints = p.check(t, plank(facing=True), None, 0, 120.0)
    assert hints == (HEAD_ON_HINT,)


# -- the hand-off: nothing kept or drawn while nobody watches --------------------------------------------------------


def frame(t: float, pixels: np.ndarray | None) -> FrameView:
    from homegym.daemon.counting.voting import Vote

    return FrameView(0, t, pixels, np.zeros(3, np.float32), None, Vote(None, np.zeros(3, np.float32), False), None,  # type: ignore[arg-type]
                     standing())


def test_frames_are_kept_only_while_a_page_shows_the_picture_and_at_preview_fps() -> None:
    view = LiveView(LiveConfig(preview_fps=5.0), lambda: Letterbox(64))
    woken: list[int] = []
    view.on_change = lambda: woken.append(1)
    pixels = np.full((64, 64, 3), 100, np.uint8)
    for i in range(30):
        view.on_frame(frame(i / 15, pixels))
    assert not view.wants_frames and view.preview() is None and not woken, "unwatched: no frame kept, nobody woken"
    assert view.snapshot()["placement"], "the placement is checked all the same (from the landmarks)"
    view.attach(picture=True)
    assert view.wants_frames
    seqs = set()
    for i in range(30, 60):  # two seconds at 15 fps
        view.on_frame(frame(i / 15, pixels))
        p = view.preview()
        assert p is not None
        seqs.add(p.seq)
    assert 9 <= len(seqs) <= 11, "5 pictures a second"
    jpeg = view.preview().jpeg(70)  # type: ignore[union-attr]
    assert cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR) is not None
    view.detach(picture=True)
    assert not view.wants_frames and view.preview() is None


# -- the config --------------------------------------------------------------------------------------------------


def test_the_reference_keeps_the_page_off_and_on_this_box_only() -> None:
    cfg = config_mod.Config()
    assert not cfg.live.enabled and cfg.live.host == "127.0.0.1" and cfg.live.loopback
    assert "live:" in (ROOT / "config.yaml").read_text()


@pytest.mark.parametrize("text, problem", [
    ("live:\n  port: 0\n", "live.port: input should be greater than or equal to 1"),
    ("live:\n  host: http://0.0.0.0:80\n", "live.host: expected an IP address or a host name (no scheme, no port)"),
    ("live:\n  preview_fps: 100\n", "live.preview_fps: input should be less than or equal to 30"),
    ("live:\n  tokn: x\n", "live.tokn: unknown key"),
])
def test_live_keys_are_validated_like_every_other(tmp_path, text, problem) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    assert problem in one_line_error(run_cli("check-config", str(path)))


# -- homegym run serving the page -----------------------------------------------------------------------------------


def get(url: str, token: str | None = None, headers: dict | None = None) -> tuple[int, dict, bytes]:
    req = urllib.request.Request(url, headers=headers or ({"Authorization": f"Bearer {token}"} if token else {}))
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def first_event(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as r:
        assert r.headers["Content-Type"].startswith("text/event-stream")
        for raw in r:
            line = raw.decode().strip()
            if line.startswith("data: "):
                return json.loads(line[6:])
    raise AssertionError("no event")


@pytest.fixture
def network_daemon(tmp_path, live_clips):
    """``homegym run`` listening on every address (so with a token), on a 20 s clip in real time."""
    port = free_port()
    cfg = live_config(tmp_path, live_clips / "long.mp4", port, host="0.0.0.0")
    proc = start_daemon(cfg)
    log = Stderr(proc)
    assert wait_http(f"http://127.0.0.1:{port}/static/page.css"), log.text()
    yield port, cfg, tmp_path / "state" / "live-token", proc, log
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)


@pytest.mark.slow
def test_off_this_box_every_route_but_the_pages_files_wants_the_token(network_daemon) -> None:
    port, _, token_file, _, log = network_daemon
    token = token_file.read_text().strip()
    assert token_file.stat().st_mode & 0o777 == 0o600 and len(token) >= 16
    base = f"http://127.0.0.1:{port}"
    for route in ("/", "/display", "/api/state", "/events", "/video.mjpg", "/frame.jpg"):
        assert get(base + route)[0] == 401, route
        assert get(base + route + "?token=wrong")[0] == 401, route
    status, headers, body = get(f"{base}/?token={token}")
    assert status == 200 and b"page.js" in body and "default-src 'self'" in headers["Content-Security-Policy"]
    assert get(base + "/static/page.js")[0] == 200
    assert re.search(rf"live page: http://[^ ]+:{port}/\?token={token}", "".join(log.lines)), "the link is logged"
    assert "█" in "".join(log.lines), "with its QR code"


def test_the_page_loads_nothing_from_the_internet() -> None:
    page = ROOT / "daemon" / "live" / "page"
    for f in page.iterdir():
        text = f.read_text().replace('"http://www.w3.org/2000/svg"', "SVG_NAMESPACE")  # a name for createElementNS, never fetched
        assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", text, re.I), f"{f.name} names an outside address"
        assert "@import" not in text and "cdn" not in text.lower()


@pytest.mark.slow
def test_the_state_events_and_picture_come_from_the_running_daemon(network_daemon) -> None:
    port, _, token_file, _, _ = network_daemon
    token = token_file.read_text().strip()
    base = f"http://127.0.0.1:{port}"
    assert wait_for(lambda: json.loads(get(base + "/api/state", token)[2])["health"].get("fps", 0) > 0, 30)
    snap = json.loads(get(base + "/api/state", token)[2])
    assert snap["health"]["source"] == "connected"
    assert set(snap) >= {"state", "health", "placement", "sets"} and snap["health"]["mqtt"] == "off"
    assert snap["health"]["pose_ms"] > 0 and snap["health"]["infer_ms"] > 0
    event = first_event(f"{base}/events?token={token}")
    assert event["state"]["today"] == snap["state"]["today"]
    status, headers, body = get(base + "/frame.jpg", token)
    assert status == 200 and headers["Content-Type"] == "image/jpeg"
    img = cv2.imdecode(np.frombuffer(body, np.uint8), cv2.IMREAD_COLOR)
    assert img.shape[:2] == (384, 512), "the camera's 4:3 frame, cut out of the stage's square canvas"


@pytest.mark.slow
def test_homegym_status_prints_the_link_and_what_the_daemon_says(network_daemon) -> None:
    port, cfg, token_file, proc, _ = network_daemon
    token = token_file.read_text().strip()
    assert wait_for(lambda: json.loads(get(f"http://127.0.0.1:{port}/api/state", token)[2])["health"].get("fps", 0) > 0, 30)
    r = run_cli("status", "--config", str(cfg))
    assert r.returncode == 0, r.stderr
    assert re.search(rf"live page: http://\S+:{port}/\?token={token}", r.stdout) and "█" in r.stdout
    assert "daemon: answering; source connected" in r.stdout and "MQTT off" in r.stdout
    assert "today: 0 reps" in r.stdout and "placement: " in r.stdout
    proc.send_signal(signal.SIGTERM)
    proc.wait(30)
    r = run_cli("status", "--config", str(cfg))
    assert r.returncode == 3 and "daemon: not answering" in r.stdout


@pytest.mark.slow
def test_status_with_the_page_off_and_a_taken_port_each_say_so_in_one_line(tmp_path, live_clips) -> None:
    off = tmp_path / "off.yaml"
    off.write_text("live:\n  enabled: false\n")
    assert "the live page is off" in one_line_error(run_cli("status", "--config", str(off)))
    import socket

    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        r = run_cli("run", "--config", str(live_config(tmp_path, live_clips / "stand.mp4", port)), timeout=120)
    assert f"live.port: cannot listen on 127.0.0.1:{port}" in one_line_error(r)


@pytest.mark.slow
def test_the_last_sets_are_listed_after_a_restart(tmp_path, live_clips) -> None:
    """The README's clip counted (3 push-ups, a set that ends with the clip); the next daemon's page lists that set."""
    state = tmp_path / "state"
    port = free_port()
    r = run_cli("run", "--config", str(live_config(tmp_path, live_clips / "pushup.mp4", port, state=state)), timeout=180)
    assert r.returncode == 0, r.stderr[-2000:]
    proc = start_daemon(live_config(tmp_path, live_clips / "stand.mp4", port, state=state))
    try:
        assert wait_http(f"http://127.0.0.1:{port}/static/page.css")
        snap = json.loads(get(f"http://127.0.0.1:{port}/api/state")[2])
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
    assert [(s["exercise"], s["reps"]) for s in snap["sets"]] == [("pushup", 3)]
    assert snap["state"]["today"]["pushup"] == 3


@pytest.mark.realdata
@pytest.mark.parametrize("clip, view", [("clips/pushup/homegym_slow.mp4", "front"), ("clips/pushup/austinlhx_pushups.mp4", "side")])
def test_the_head_on_check_tells_front_view_push_ups_from_side_views_on_real_clips(shared_data, tmp_path, clip, view) -> None:
    """Two eval clips of real people, their views hand-labelled in clips.csv (docs/experiments.md has all 26 push-up clips
    labelled front or side: every front one flagged on all its plank frames, the side ones on 0-31 %)."""
    from homegym.core.keypoint_features import L_HIP, L_SH, R_HIP, R_SH, upright
    from homegym.daemon.live.placement import LYING

    out = tmp_path / "pose.npz"
    r = run_cli("pose", str(shared_data / clip), "-o", str(out))
    assert r.returncode == 0, r.stderr[-2000:]
    d = np.load(out)
    flags = [head_on(Pose(True, lm, w, 1.0, None, False)) for lm, w, found in zip(d["landmarks"], d["world"], d["found"])
             if found and upright(0.5 * (w[L_SH] + w[R_SH]), 0.5 * (w[L_HIP] + w[R_HIP])) < LYING]
    assert len(flags) > 100, "the clip's push-ups are seen in a plank"
    share = float(np.mean(flags))
    assert share > 0.9 if view == "front" else share < 0.1, share


@pytest.mark.slow
def test_a_reload_turns_the_page_on_and_off(tmp_path, live_clips) -> None:
    port = free_port()
    cfg = live_config(tmp_path, live_clips / "long.mp4", port)
    on = cfg.read_text()
    cfg.write_text(on.replace("  enabled: true\n  host", "  enabled: false\n  host"))
    proc = start_daemon(cfg)
    log = Stderr(proc)
    try:
        assert wait_for(lambda: any("ready: first frame" in line for line in log.lines), 60), log.text()
        assert not wait_http(f"http://127.0.0.1:{port}/static/page.css", 1)
        cfg.write_text(on)
        proc.send_signal(signal.SIGHUP)
        assert wait_http(f"http://127.0.0.1:{port}/static/page.css", 30), log.text()
        assert get(f"http://127.0.0.1:{port}/api/state")[0] == 200
        cfg.write_text(on.replace("  enabled: true\n  host", "  enabled: false\n  host"))
        proc.send_signal(signal.SIGHUP)
        assert wait_for(lambda: not wait_http(f"http://127.0.0.1:{port}/static/page.css", 0.5), 30)
        assert proc.poll() is None, "the daemon counts on"
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)


def test_status_and_the_page_name_exercises_in_words() -> None:
    """`homegym status` and the page's snapshot say "jumping jacks", not the label's jumping_jack."""
    from homegym.cli.daemon_commands import _status_lines
    from homegym.daemon.config.settings import LiveConfig
    from homegym.daemon.live.view import LiveView

    state = {"exercise": "jumping_jack", "set": 2, "reps_in_set": 7, "today": {"jumping_jack": 19, "shoulder_press": 5},
             "total_today": 24}
    lines = _status_lines({"health": {}, "state": state})
    assert lines[1] == "today: 24 reps (jumping jacks 19, shoulder presses 5); now jumping jacks, set 2, 7 reps"
    view = LiveView(LiveConfig(), lambda: None)
    view.on_state(state)
    assert view.snapshot()["names"] == {"jumping_jack": "Jumping jacks", "shoulder_press": "Shoulder presses"}


@pytest.mark.slow
def test_a_flood_slow_clients_and_too_many_connections_neither_fill_the_log_nor_hold_the_page(tmp_path, live_clips) -> None:
    import socket
    import time

    port = free_port()
    cfg = live_config(tmp_path, live_clips / "long.mp4", port, host="0.0.0.0",
                      extra="  max_connections: 8\n  header_timeout_s: 1\n")
    proc = start_daemon(cfg)
    log = Stderr(proc)
    try:
        assert wait_http(f"http://127.0.0.1:{port}/static/page.css"), log.text()
        token = (tmp_path / "state" / "live-token").read_text().strip()
        before = len(log.lines)
        t0 = time.perf_counter()
        for _ in range(500):  # oversize headers: aiohttp answers 400 and logs each with a traceback, unless limited
            with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
                s.sendall(b"GET / HTTP/1.1\r\nHost: box\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n")
                try:
                    s.recv(64)
                except OSError:
                    pass
        flood_s = time.perf_counter() - t0
        time.sleep(1)
        flood = log.lines[before:]
        assert len(flood) <= 10 and not any("Traceback" in line for line in flood), flood[:20]

        slow = socket.create_connection(("127.0.0.1", port), timeout=5)
        slow.sendall(b"GET / HTTP/1.1\r\nHo")  # and nothing more
        time.sleep(2.5)
        assert slow.recv(64) == b"", "closed: no headers within live.header_timeout_s"
        slow.close()

        idle = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(8)]
        extra = socket.create_connection(("127.0.0.1", port), timeout=5)
        try:
            assert extra.recv(64) == b"", "one past live.max_connections is closed at once"
        except ConnectionResetError:
            pass
        for s in idle + [extra]:
            s.close()
        time.sleep(0.5)
        status, _, _ = get(f"http://127.0.0.1:{port}/api/state", None, headers={"Authorization": f"bearer {token}"})
        assert status == 200, "the page answers again, and a lower-case bearer scheme is accepted"
        print(f"\nflood: 500 oversize requests in {flood_s:.1f} s wrote {len(flood)} log lines")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
