"""The live path: the same pipeline on a source that delivers frames at a fixed rate, and on one
that stalls and comes back (an MJPEG stream over HTTP served by the test)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import cv2
import pytest
from support import concat_clips, counted_rows, run_cli

from homegym.daemon.config.settings import Config, SourceConfig
from homegym.daemon.counting.events import RepEvent
from homegym.daemon.pipeline.observer import Collect, Observer
from homegym.daemon.pipeline.pipeline import Pipeline


def _a_counted_clip(image_clips) -> dict:
    return next(c for c in counted_rows(image_clips) if int(c["reps"]) >= 2)


@pytest.mark.slow
def test_file_read_in_real_time_counts_like_offline(image_ir, image_clips) -> None:
    row = _a_counted_clip(image_clips)
    cfg = Config(source=SourceConfig(uri=str(image_clips / row["file"]), realtime=True))
    events = Collect()
    pipe = Pipeline.open(cfg, image_ir, events)
    t = time.monotonic()
    s = pipe.run()
    elapsed = time.monotonic() - t
    duration = int(row["frames"]) / float(row["fps"])
    assert elapsed >= 0.9 * duration, "frames came at the file's own rate, not as fast as possible"
    assert s.frames + s.dropped == int(row["frames"])
    assert s.total == int(row["reps"]) and len([e for e in events.events if isinstance(e, RepEvent)]) == s.total


class _StallingMJPEG:
    """Serves a clip as multipart JPEG at its frame rate; the first connection stalls after ``stall_at`` frames."""

    def __init__(self, frames: list[bytes], fps: float, stall_at: int) -> None:
        self.frames, self.fps, self.stall_at = frames, fps, stall_at
        self.connections = 0
        self.release = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a) -> None:
                pass

            def do_GET(self) -> None:
                outer.connections += 1
                first = outer.connections == 1
                self.send_response(200)
                self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
                self.end_headers()
                todo = outer.frames[: outer.stall_at] if first else outer.frames[outer.stall_at :]
                try:
                    for jpg in todo:
                        self.wfile.write(b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n" % len(jpg) + jpg + b"\r\n")
                        self.wfile.flush()
                        time.sleep(1 / outer.fps)
                    if first:
                        outer.release.wait(30)  # stall: connection open, nothing sent
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/stream.mjpg"

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()


@pytest.mark.slow
def test_stalled_stream_reconnects_and_counting_goes_on(image_ir, image_clips) -> None:
    row = _a_counted_clip(image_clips)
    cap = cv2.VideoCapture(str(image_clips / row["file"]))
    jpgs = []
    while True:
        ok, f = cap.read()
        if not ok:
            break
        jpgs.append(cv2.imencode(".jpg", f, [cv2.IMWRITE_JPEG_QUALITY, 95])[1].tobytes())
    server = _StallingMJPEG(jpgs, float(row["fps"]), stall_at=len(jpgs) // 3)
    cfg = Config(source=SourceConfig(uri=server.url, stall_timeout_s=1.0, reconnect_initial_s=0.1, reconnect_max_s=0.5))
    stats: list[dict] = []  # what gym/stats carries: the camera watchdog's view

    class Health(Observer):
        def on_stats(self, s: dict) -> None:
            stats.append(s)

    pipe = Pipeline.open(cfg, image_ir, Health())
    pipe.stats_interval_s = 0.2
    result = {}
    runner = threading.Thread(target=lambda: result.setdefault("s", pipe.run()))
    runner.start()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and pipe.health.frames < len(jpgs) - 10:
        time.sleep(0.2)
    pipe.stop()
    runner.join(10)
    server.close()
    s = result["s"]
    assert server.connections >= 2 and s.reconnects >= 1
    assert any(x["source_last_frame_age_s"] >= 0.5 for x in stats if x["source_last_frame_age_s"] is not None), "the gap shows"
    assert stats[-1]["source_reconnects"] >= 1 and stats[-1]["source_state"] == "connected"
    assert s.frames >= len(jpgs) - 10  # the frames of both connections reached the counter


@pytest.mark.slow
def test_run_command_stops_cleanly_on_sigterm(image_ir, image_clips, tmp_path) -> None:
    row = _a_counted_clip(image_clips)
    cfg = tmp_path / "config.yaml"
    cfg.write_text(f"source:\n  uri: {image_clips / row['file']}\n  realtime: true\nmodel:\n  path: {image_ir}\n"
                   f"mqtt:\n  enabled: false\nstate:\n  dir: {tmp_path / 'state'}\n")
    proc = subprocess.Popen([sys.executable, "-m", "homegym.cli", "run", "--config", str(cfg)], stderr=subprocess.PIPE, text=True)
    time.sleep(4)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=15)
    assert proc.returncode == 0, err[-2000:]
    assert "compiled on CPU" in err and "stopped:" in err and "Traceback" not in err
    assert "damaged" not in err, "a stop asked for is not a damaged file"


def test_inference_rate_passes_on_every_nth_frame() -> None:
    from homegym.daemon.frames.capture import stride_for

    assert [stride_for(fps, 15) for fps in (30, 29.97, 25, 20, 15, 10, 60)] == [2, 2, 2, 1, 1, 1, 4]
    assert stride_for(30, None) == 1 and stride_for(0, 15) == 1  # every frame; a source that names no rate


@pytest.mark.slow
def test_run_on_a_file_as_fast_as_it_reads_never_drops_and_counts_like_count(image_ir, image_clips, tmp_path) -> None:
    """A file source waits for the ring under `homegym run` too (realtime: false); only a live source drops.

    The clip, looped into one long file, makes inference fall behind reading: the ring fills and must wait."""
    rows = [c for c in counted_rows(image_clips) if int(c["reps"]) >= 1]
    looped = tmp_path / "looped.mp4"
    total_frames = concat_clips(image_clips, rows * 2, looped)
    counted = run_cli("count", str(looped), "--model", str(image_ir), "--json")
    assert counted.returncode == 0, counted.stderr[-2000:]
    want = json.loads(counted.stdout.splitlines()[-1])["total"]
    cfg = tmp_path / "config.yaml"
    cfg.write_text(f"source:\n  uri: {looped}\n  realtime: false\nmodel:\n  path: {image_ir}\n"
                   f"pipeline:\n  ring_capacity: 4\nmqtt:\n  enabled: false\nstate:\n  dir: {tmp_path / 'state'}\n")
    r = run_cli("run", "--config", str(cfg))
    assert r.returncode == 0, r.stderr[-2000:]
    stopped = next(line for line in r.stderr.splitlines() if "stopped:" in line)
    assert f"stopped: {want} reps" in stopped and " 0 dropped" in stopped, stopped
    assert f"{total_frames} frames" in stopped, stopped  # a 15 fps file at infer_fps 15: every frame inferred


def test_join_puts_clips_back_to_back_and_says_where_each_begins(live_clips, tmp_path) -> None:
    from support import one_line_error, run_cli

    from homegym.core.video import open_video

    out = tmp_path / "session.mp4"
    r = run_cli("join", str(out), str(live_clips / "pushup.mp4"), str(live_clips / "long.mp4"), "--size", "320x240", "--fps", "15")
    assert r.returncode == 0, r.stderr
    starts = [line.split(" s ")[0].strip() for line in r.stdout.splitlines()[:2]]
    assert starts == ["0.0", "10.0"], r.stdout  # a 10 s clip at 30 fps resampled to 15, then a 20 s one at 15
    _, info = open_video(out)
    assert (info.frames, info.width, info.height) == (450, 320, 240)
    assert "no clips to join" in one_line_error(run_cli("join", str(tmp_path / "x.mp4")))
    assert "video not found" in one_line_error(run_cli("join", str(tmp_path / "x.mp4"), str(tmp_path / "missing.mp4")))
