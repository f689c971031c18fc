"""``homegym run`` itself on a real-time source: its CPU share after READY=1, its memory, and the live page's cost."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import numpy as np
import yaml

from homegym.core.errors import UserError
from homegym.core.video import open_video
from homegym.measure.broker import free_port

from .report import BenchReport, Figure


def _proc_cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def _proc_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class PageViewer:
    """A page left open: reads the live page's events and picture streams as a browser would, on two threads."""

    def __init__(self, port: int) -> None:
        self.bytes = 0
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._read, args=(f"http://127.0.0.1:{port}/{path}",), daemon=True)
                         for path in ("events", "video.mjpg")]
        for t in self._threads:
            t.start()

    def _read(self, url: str) -> None:
        try:
            with urllib.request.urlopen(url, timeout=10) as r:
                while not self._stop.is_set():
                    chunk = r.read1(65536)
                    if not chunk:
                        return
                    self.bytes += len(chunk)
        except OSError:
            return

    def close(self) -> None:
        self._stop.set()


def live_share(model: Path, clip: Path, seconds: float, work: Path, infer_fps: float | None, pose: bool = False,
               page: str = "", settings: dict[str, dict] | None = None) -> tuple[float, float, int]:
    """``homegym run`` on the clip read in real time: CPU seconds a second after READY=1, RSS in MiB, and bytes a page
    read. ``page``: "" (the live page off), "closed" (on, nobody watching) or "open" (a page reading both streams);
    ``settings``: config sections' keys beside the bench's own (``{"pose": {"model": "full"}}``)."""
    port = free_port()
    cfg = work / "live.yaml"
    sections: dict[str, dict] = {
        "source": {"uri": str(clip), "realtime": True}, "model": {"path": str(model)}, "mqtt": {"enabled": False},
        "pipeline": {"infer_fps": infer_fps}, "pose": {"enabled": pose}, "state": {"dir": str(work / "state")},
        "logging": {"level": "warning"}, **({"live": {"enabled": True, "port": port}} if page else {})}
    for name, keys in (settings or {}).items():
        sections[name] = {**sections.get(name, {}), **keys}
    cfg.write_text(yaml.safe_dump(sections))
    sock_path = str(work / "notify")
    Path(sock_path).unlink(missing_ok=True)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(sock_path)
    sock.settimeout(60)
    proc = subprocess.Popen([sys.executable, "-m", "homegym.cli", "run", "--config", str(cfg)], stderr=subprocess.PIPE,
                            env={**os.environ, "NOTIFY_SOCKET": sock_path})
    viewer = None
    try:
        while b"READY=1" not in sock.recv(4096):
            pass
        if page == "open":
            viewer = PageViewer(port)
            time.sleep(1.0)  # the page connected and its first pictures out, as after a browser's first second
        cpu0, t0 = _proc_cpu_s(proc.pid), time.monotonic()
        time.sleep(seconds)
        cpu1, t1 = _proc_cpu_s(proc.pid), time.monotonic()
        rss = _proc_rss_mb(proc.pid)
    except (TimeoutError, OSError) as e:
        raise UserError(f"the live daemon did not come up: {e}") from None
    finally:
        if viewer is not None:
            viewer.close()
        proc.terminate()
        err = proc.communicate(timeout=20)[1].decode(errors="replace")
        sock.close()
    if proc.returncode not in (0, -15):
        raise UserError(f"the live daemon failed: {err.strip().splitlines()[-1:] or proc.returncode}")
    return (cpu1 - cpu0) / (t1 - t0), rss, viewer.bytes if viewer else 0


def live_figures(report: BenchReport, model: Path, clip: Path, seconds: float, work: Path, infer_fps: float | None) -> None:
    """``homegym run`` itself on the clip read in real time, an image classifier without the pose stage: CPU seconds per
    second after READY=1, and RSS (the stage's live figures: ``lighter.lighter_figures``)."""
    share, rss, _ = live_share(model, clip, seconds, work, infer_fps)
    cap, vinfo = open_video(clip)
    cap.release()
    rate = "every frame" if infer_fps is None else f"infer_fps {infer_fps:g}"
    key = "image" + ("/every-frame" if infer_fps is None else f"/{infer_fps:g}fps")
    report.add(Figure("live", f"homegym run on a {vinfo.fps:.0f} fps {vinfo.width}x{vinfo.height} real-time source, {rate}, "
                      f"{seconds:.0f} s", 100 * share, "% of one core", ratio=share * 100 / 25, note="goal 25 % of one core",
                      key=f"live/cpu/{key}"))
    report.add(Figure("live", f"resident memory of homegym run, {rate}", rss, "MiB", key=f"live/memory/{key}"))


def live_page_figures(report: BenchReport, model: Path, clip: Path, seconds: float, work: Path, infer_fps: float | None,
                      rounds: int) -> None:
    """The live page's CPU cost: the daemon with the page off, on with nobody watching, and on with a page open, in
    turn for ``rounds`` rounds (the machine's drift falls on all three alike); each figure is the mean of its rounds."""
    shares: dict[str, list[float]] = {"": [], "closed": [], "open": []}
    sent = 0
    for _ in range(rounds):
        for page in shares:
            share, _, got = live_share(model, clip, seconds, work, infer_fps, pose=True, page=page)
            shares[page].append(100 * share)
            sent += got
    off = float(np.mean(shares[""]))
    spread = f"rounds {', '.join(f'{v:.1f}' for v in shares[''])} % with it off"
    for page, what in (("", "off"), ("closed", "on, nobody watching"), ("open", "on, a page open (events and picture)")):
        mean = float(np.mean(shares[page]))
        note = spread if not page else f"against the page off; rounds {', '.join(f'{v:.1f}' for v in shares[page])} %"
        if page == "open":
            note += f"; the page read {sent / rounds / seconds / 1024:.0f} KiB/s"
        report.add(Figure("live", f"homegym run, pose stage and classifier, the live page {what}, {seconds:.0f} s x {rounds}",
                          mean, "% of one core", ratio=mean / off if page and off > 0 else None, note=note,
                          key=f"live/page/{page or 'off'}"))
