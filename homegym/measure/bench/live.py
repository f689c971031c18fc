"""``homegym run`` itself on a real-time source: its CPU share after READY=1, and its memory."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from homegym.core.errors import UserError
from homegym.core.video import open_video

from .report import BenchReport, Figure


def _proc_cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def _proc_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def live_figures(report: BenchReport, model: Path, clip: Path, seconds: float, work: Path, infer_fps: float | None,
                 pose: bool = False, scene: str = "") -> None:
    """``homegym run`` itself on the clip read in real time: CPU seconds per second after READY=1, and RSS."""
    cfg = work / "live.yaml"
    cfg.write_text(f"source:\n  uri: {clip}\n  realtime: true\nmodel:\n  path: {model}\nmqtt:\n  enabled: false\n"
                   f"pipeline:\n  infer_fps: {'null' if infer_fps is None else infer_fps}\n"
                   f"pose:\n  enabled: {'true' if pose else 'false'}\n"
                   f"state:\n  dir: {work / 'state'}\nlogging:\n  level: warning\n")
    sock_path = str(work / "notify")
    Path(sock_path).unlink(missing_ok=True)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(sock_path)
    sock.settimeout(60)
    proc = subprocess.Popen([sys.executable, "-m", "homegym.cli", "run", "--config", str(cfg)], stderr=subprocess.PIPE,
                            env={**os.environ, "NOTIFY_SOCKET": sock_path})
    try:
        while b"READY=1" not in sock.recv(4096):
            pass
        cpu0, t0 = _proc_cpu_s(proc.pid), time.monotonic()
        time.sleep(seconds)
        cpu1, t1 = _proc_cpu_s(proc.pid), time.monotonic()
        rss = _proc_rss_mb(proc.pid)
    except (TimeoutError, OSError) as e:
        raise UserError(f"the live daemon did not come up: {e}") from None
    finally:
        proc.terminate()
        err = proc.communicate(timeout=20)[1].decode(errors="replace")
        sock.close()
    if proc.returncode not in (0, -15):
        raise UserError(f"the live daemon failed: {err.strip().splitlines()[-1:] or proc.returncode}")
    share = (cpu1 - cpu0) / (t1 - t0)
    cap, vinfo = open_video(clip)
    cap.release()
    rate = ("every frame" if infer_fps is None else f"infer_fps {infer_fps:g}") + (", pose stage and classifier" if pose else "") \
        + (f", {scene}" if scene else "")
    report.add(Figure("live", f"homegym run on a {vinfo.fps:.0f} fps {vinfo.width}x{vinfo.height} real-time source, {rate}, "
                      f"{t1 - t0:.0f} s", 100 * share, "% of one core", ratio=share * 100 / 25, note="goal 25 % of one core"))
    report.add(Figure("live", f"resident memory of homegym run, {rate}", rss, "MiB"))
