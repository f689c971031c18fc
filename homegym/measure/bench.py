"""``homegym bench``: how fast, measured against the alternatives in one run on one machine.

Figures: the IR alone (each device, each precision given, batch 1 and the daemon's
batch, LATENCY and THROUGHPUT hints); the whole offline pipeline on a clip and its
ratio to the IR alone on the same frames; the seed's way (Keras ``predict`` per
frame, and batched) where TensorFlow is installed; the live daemon's CPU share and
memory on a 30 fps real-time source; and the time from a rep's decision to the
broker's acknowledgement of its event on loopback. ``--short`` spends a few seconds
per figure (CI); the default is the full run.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from homegym.core.errors import UserError
from homegym.core.framing import Framer, Framing
from homegym.core.model_info import read_ir
from homegym.core.runtime import compile_model, make_core
from homegym.core.video import capture_file, iter_frames, open_video, stated_fps
from homegym.train import keras_import

FRAMING_WORK = {"full": "downscale", "motion": "motion map, crop, downscale"}

log = logging.getLogger(__name__)


@dataclass
class Figure:
    group: str  # model, pipeline, seed, live, latency
    name: str
    value: float | None
    unit: str
    p50_ms: float | None = None
    p95_ms: float | None = None
    ratio: float | None = None  # against the baseline named in ``note``
    note: str = ""


@dataclass
class BenchReport:
    machine: dict
    figures: list[Figure] = field(default_factory=list)

    def add(self, f: Figure) -> Figure:
        self.figures.append(f)
        log.info("%s / %s: %s %s%s", f.group, f.name, "–" if f.value is None else f"{f.value:.4g}", f.unit,
                 f" (x{f.ratio:.2f} {f.note})" if f.ratio is not None else (f" ({f.note})" if f.note else ""))
        return f

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1)

    def markdown(self) -> str:
        def n(v, fmt="{:.1f}"):
            return "–" if v is None else fmt.format(v)

        lines = [f"Machine: {self.machine['cpu']} ({self.machine['cores']} cores), OpenVINO {self.machine['openvino']}, "
                 f"devices {', '.join(self.machine['devices'])}", "",
                 "| figure | what | value | p50 ms | p95 ms | ratio | against |", "|---|---|---|---|---|---|---|"]
        for f in self.figures:
            lines.append(f"| {f.group} | {f.name} | {n(f.value)} {f.unit} | {n(f.p50_ms, '{:.2f}')} | {n(f.p95_ms, '{:.2f}')} | "
                         f"{n(f.ratio, '{:.2f}')} | {f.note} |")
        return "\n".join(lines)


def machine(core) -> dict:
    cpu = platform.processor() or ""
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    import openvino as ov

    return {"cpu": cpu, "cores": os.cpu_count(), "openvino": ov.__version__, "devices": list(core.available_devices),
            "python": platform.python_version()}


def _percentiles(lat: list[float]) -> tuple[float | None, float | None]:
    if not lat:
        return None, None
    a = np.array(lat) * 1000
    return float(np.percentile(a, 50)), float(np.percentile(a, 95))


def _frames(clip: Path, size: tuple[int, int], limit: int, framing: Framing | None = None) -> np.ndarray:
    """The clip's first ``limit`` frames as a model with this framing takes them."""
    cap, info = open_video(clip)
    cap.release()
    framer = Framer(framing or Framing(), size)
    frames = [framer(f, i / info.fps) for i, f in itertools.islice(iter_frames(clip), limit)]
    if not frames:
        raise UserError(f"no frames in {clip}")
    return np.stack(frames)


# -- the IR alone ----------------------------------------------------------------------------------


def model_figure(core, path: Path, device: str, hint: str, batch: int, frames: np.ndarray, seconds: float,
                 f32: bool = True, label: str = "") -> Figure:
    """Frames per second and the latency of each inference call (a frame waits for its whole batch).

    ``f32``: on the CPU, compute in f32 as the daemon does (an FP16 IR's weights are widened);
    otherwise OpenVINO picks, bf16 on a CPU with AVX-512 BF16. The row names what ran.
    """
    import openvino as ov

    model, info = read_ir(path, core)
    if batch != info.batch:
        shape = list(model.input(0).get_partial_shape().to_shape())
        model.reshape([batch, *shape[1:]])
    compiled = compile_model(core, model, device, hint, cpu_f32=f32)
    batches = [frames[i: i + batch] for i in range(0, len(frames) - batch + 1, batch)]
    lat: list[float] = []
    done = 0
    t0 = time.perf_counter()
    if hint == "LATENCY":
        req = compiled.create_infer_request()
        while time.perf_counter() - t0 < seconds or done == 0:
            x = batches[(done // batch) % len(batches)]
            t = time.perf_counter()
            req.infer({0: x})
            lat.append(time.perf_counter() - t)
            done += batch
    else:
        nreq = int(compiled.get_property("OPTIMAL_NUMBER_OF_INFER_REQUESTS"))
        q = ov.AsyncInferQueue(compiled, nreq)
        q.set_callback(lambda req, t: lat.append(time.perf_counter() - t))
        while time.perf_counter() - t0 < seconds or done == 0:
            q.start_async({0: batches[(done // batch) % len(batches)]}, time.perf_counter())
            done += batch
        q.wait_all()
    elapsed = time.perf_counter() - t0
    p50, p95 = _percentiles(lat)
    runs = _float_precision(compiled)
    return Figure("model", f"{label or info.precision + ' IR'}, {f'runs {runs} on' if runs else 'on'} {device} batch {batch} {hint}",
                  done / elapsed, "fps", p50, p95)


def _float_precision(owner, *device: str) -> str | None:
    """The float precision a compiled model (or a device, by default) computes in: 'bf16', 'f32', ...;
    None for a device without the property (the NPU: its own native precision)."""
    try:
        return owner.get_property(*device, "INFERENCE_PRECISION_HINT").to_string()
    except RuntimeError:
        return None


def int8_variant(core, ir: Path, frames: np.ndarray, work: Path) -> Path | None:
    """The shipped IR quantized to INT8 by NNCF (plain post-training), calibrated on every 2nd frame of
    the bench clip: a speed figure for a model the user can make with ``homegym convert --precision
    int8``. None where NNCF is not installed (the daemon's install)."""
    try:
        import nncf  # noqa: F401  (the train extra)
    except ImportError:
        return None
    import dataclasses

    import openvino as ov

    from homegym.convert import quantize

    model, info = read_ir(ir, core)
    quantized = quantize.plain(model, frames[::2], info.batch)
    dataclasses.replace(info, precision="int8").write(quantized)
    out = work / "int8" / "model.xml"
    out.parent.mkdir(parents=True, exist_ok=True)
    ov.save_model(quantized, str(out))
    return out


def int8_figures(report: BenchReport, core, ir: Path, int8: Path, frames: np.ndarray, clip: Path, cfg) -> None:
    """What INT8 costs in decisions: top-1 agreement with the shipped IR on the frames calibration never
    saw, and the reps each counts on the clip (accuracy on real people: the convert and eval reports)."""
    from homegym.core.runtime import infer_all
    from homegym.daemon.config import for_file
    from homegym.daemon.pipeline import Pipeline

    probs, reps = [], []
    for path in (ir, int8):
        model, info = read_ir(path, core)
        probs.append(infer_all(compile_model(core, model, "CPU"), frames[1::2], info.batch))
        events = []
        Pipeline(for_file(cfg, clip), path, events.append).run(offline=True)
        reps.append(sum(e.type == "rep" for e in events))
    agree = float((probs[0].argmax(1) == probs[1].argmax(1)).mean())
    report.add(Figure("model", f"int8 against the shipped IR: top-1 agreement on {len(probs[0])} frames of the clip "
                      "that calibration never saw", 100 * agree, "%"))
    report.add(Figure("model", f"int8: reps counted on the clip by homegym count (the shipped IR: {reps[0]})", reps[1], "reps"))


# -- the pipeline against the IR alone ---------------------------------------------------------------


def pipeline_figures(report: BenchReport, model: Path, clip: Path, cfg, repeats: int) -> float:
    """The offline pipeline on the clip, and the IR alone (same compiled model, requests and batch) on its
    frames decoded beforehand. The two alternate, so a burst of a noisy neighbour hits both alike."""
    import dataclasses

    from homegym.daemon.capture import stride_for
    from homegym.daemon.config import for_file
    from homegym.daemon.inference import hint_for, open_model
    from homegym.daemon.pipeline import Pipeline
    from homegym.daemon.ring import Batch

    file_cfg = for_file(cfg, clip).with_values("pipeline", infer_fps=None)  # every frame: the IR alone's work
    inf = open_model(cfg.model, model, hint_for(file_cfg.source))
    frames = _frames(clip, inf.working_size, 100_000, inf.info.framing)
    ids = np.arange(len(frames))
    fps_pipe, fps_raw, cpu_pipe, cpu_raw = [], [], [], []
    for _ in range(repeats):
        t, c = time.perf_counter(), time.process_time()
        for i in range(0, len(frames), inf.batch):
            inf.submit(Batch(frames[i: i + inf.batch], ids[i: i + inf.batch], ids[i: i + inf.batch] * 1.0, 0))
            inf.results()
        inf.results(wait=True)
        fps_raw.append(len(frames) / (time.perf_counter() - t))
        cpu_raw.append((time.process_time() - c) / len(frames))
        pipe = Pipeline(file_cfg, model, lambda e: None)
        c = time.process_time()
        s = pipe.run(offline=True)
        fps_pipe.append(s.frames / s.wall_s)
        cpu_pipe.append((time.process_time() - c) / s.frames)
    pipe_fps, raw_fps = max(fps_pipe), max(fps_raw)  # best of: the noise of a shared machine only slows
    report.add(Figure("pipeline", f"IR alone on the clip's {len(frames)} frames (decoded beforehand), best of {repeats}", raw_fps, "fps"))
    report.add(Figure("pipeline", "homegym count: decode, framing, ring, inference, periodicity, voting, counting", pipe_fps, "fps",
                      ratio=pipe_fps / raw_fps, note="IR alone (goal >= 0.83: adds <= 20 %)"))
    # Where the difference goes: CPU time per frame, all threads (the machine's cores are all it has).
    decode, down = _decode_cpu(clip, inf.working_size, inf.info.framing)
    report.add(Figure("pipeline", "CPU per frame: IR alone", 1000 * min(cpu_raw), "ms"))
    report.add(Figure("pipeline", "CPU per frame: homegym count", 1000 * min(cpu_pipe), "ms", ratio=min(cpu_pipe) / min(cpu_raw),
                      note="IR alone"))
    report.add(Figure("pipeline", "CPU per frame: decoding alone (FFmpeg, one thread)", 1000 * decode, "ms"))
    report.add(Figure("pipeline", f"CPU per frame: framing alone ({inf.info.framing.mode}: {FRAMING_WORK[inf.info.framing.mode]})",
                      1000 * down, "ms"))
    cap, vinfo = open_video(clip)
    cap.release()
    if stride_for(vinfo.fps, cfg.pipeline.infer_fps) > 1:
        s = Pipeline(for_file(cfg, clip), model, lambda e: None).run(offline=True)
        report.add(Figure("pipeline", f"the clip's frames read per second by homegym count as configured (infer_fps {cfg.pipeline.infer_fps:g})",
                          s.frames_read / s.wall_s, "fps", ratio=s.frames_read / s.wall_s / pipe_fps, note="every frame inferred"))
    return pipe_fps


def _decode_cpu(clip: Path, size: tuple[int, int], framing: Framing) -> tuple[float, float]:
    """CPU seconds per frame to decode the clip as capture does, and to frame it for the model."""
    cap = capture_file(clip)
    fps = stated_fps(cap, 30.0)
    framer = Framer(framing, size)
    n, dec, down = 0, 0.0, 0.0
    while True:
        c = time.process_time()
        ok, frame = cap.read()
        dec += time.process_time() - c
        if not ok:
            break
        c = time.process_time()
        framer(frame, n / fps)
        down += time.process_time() - c
        n += 1
    cap.release()
    return dec / max(n, 1), down / max(n, 1)


# -- the seed's way --------------------------------------------------------------------------------


def seed_figures(report: BenchReport, model: Path, clip: Path, keras_model: Path | None, pipe_fps: float, seconds: float) -> None:
    try:
        keras = keras_import.keras()
    except ImportError:
        report.add(Figure("seed", "Keras per frame", None, "fps", note="TensorFlow not installed (pip install -e '.[train]')"))
        return
    _, info = read_ir(model, make_core(None))
    if keras_model is not None:
        km = keras.models.load_model(keras_model)
        what = keras_model.name
    else:  # speed depends on the architecture, not on the weights
        from homegym.train.model import build

        km = build(info.labels, info.input_size, float(info.provenance.get("alpha", 1.0)), "none")
        what = f"same architecture, {info.input_size} px"
    frames = _frames(clip, (info.input_size, info.input_size), 100_000, info.framing)[..., ::-1].astype(np.float32)  # RGB, as trained
    km.predict(frames[:1], verbose=0)
    n, t = 0, time.perf_counter()
    while time.perf_counter() - t < seconds or n == 0:
        km.predict(frames[n % len(frames)][None], verbose=0)
        n += 1
    per_frame = n / (time.perf_counter() - t)
    t = time.perf_counter()
    km.predict(frames, batch_size=32, verbose=0)
    batched = len(frames) / (time.perf_counter() - t)
    report.add(Figure("seed", f"Keras model.predict per frame ({what})", per_frame, "fps"))
    report.add(Figure("seed", f"Keras predict batched 32 ({what})", batched, "fps"))
    report.add(Figure("seed", "homegym count against Keras per frame", pipe_fps, "fps", ratio=pipe_fps / per_frame,
                      note="Keras per frame (goal >= 5)"))
    report.add(Figure("seed", "homegym count against Keras batched", pipe_fps, "fps", ratio=pipe_fps / batched, note="Keras batched"))


# -- the live daemon ---------------------------------------------------------------------------------


def _proc_cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def _proc_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def live_figures(report: BenchReport, model: Path, clip: Path, seconds: float, work: Path, infer_fps: float | None) -> None:
    """``homegym run`` itself on the clip read in real time: CPU seconds per second after READY=1, and RSS."""
    cfg = work / "live.yaml"
    cfg.write_text(f"source:\n  uri: {clip}\n  realtime: true\nmodel:\n  path: {model}\nmqtt:\n  enabled: false\n"
                   f"pipeline:\n  infer_fps: {'null' if infer_fps is None else infer_fps}\n"
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
    rate = "every frame" if infer_fps is None else f"infer_fps {infer_fps:g}"
    report.add(Figure("live", f"homegym run on a {vinfo.fps:.0f} fps {vinfo.width}x{vinfo.height} real-time source, {rate}, "
                      f"{t1 - t0:.0f} s", 100 * share, "% of one core", ratio=share * 100 / 25, note="goal 25 % of one core"))
    report.add(Figure("live", f"resident memory of homegym run, {rate}", rss, "MiB"))


# -- rep latency to the broker ----------------------------------------------------------------------


def latency_figures(report: BenchReport, model: Path, clip: Path, cfg, work: Path, rounds: int) -> None:
    """From the counter's decision (the event handed to the publisher) to the broker's PUBACK, on loopback."""
    mosquitto = shutil.which("mosquitto") or ("/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None)
    from homegym.daemon.capture import stride_for
    from homegym.daemon.config import MqttConfig, for_file
    from homegym.daemon.inference import resolve_model_path
    from homegym.daemon.outbox import Outbox
    from homegym.daemon.pipeline import Pipeline
    from homegym.daemon.publisher import Publisher
    from homegym.daemon.voting import Voter

    cap, vinfo = open_video(clip)
    cap.release()
    _, info = read_ir(resolve_model_path(str(model), None), make_core(None))
    rate = vinfo.fps / stride_for(vinfo.fps, cfg.pipeline.infer_fps)  # the frames the voting sees
    delay_ms = 1000 * Voter(info.labels, cfg.voting).delay_frames / rate
    report.add(Figure("latency", f"voting window's own delay at {rate:.0f} inferred fps", delay_ms, "ms"))
    if mosquitto is None:
        report.add(Figure("latency", "rep decided -> broker PUBACK", None, "ms", note="mosquitto not installed"))
        return
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    conf = work / "mosquitto.conf"
    conf.write_text(("user root\n" if os.geteuid() == 0 else "") + f"listener {port} 127.0.0.1\nallow_anonymous true\n")
    broker = subprocess.Popen([mosquitto, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    outbox = Outbox(work / "outbox.sqlite3")
    sent: dict[int, float] = {}
    lat: list[float] = []
    acked = threading.Event()
    mark = outbox.mark_delivered

    def delivered(seq: int) -> None:
        mark(seq)
        if seq in sent:
            lat.append(time.perf_counter() - sent.pop(seq))
            if not sent:
                acked.set()

    outbox.mark_delivered = delivered
    pub = Publisher(MqttConfig(port=port, client_id="homegym-bench", ha_discovery=False), outbox)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise UserError("mosquitto did not start for the latency figure") from None
                time.sleep(0.05)
        pub.start()
        if not pub.connected.wait(10):
            raise UserError("could not connect to the bench's own mosquitto")
        events = []
        Pipeline(for_file(cfg, clip), model, events.append).run(offline=True)
        reps = [e for e in events if e.type == "rep"]
        if not reps:
            report.add(Figure("latency", "rep decided -> broker PUBACK", None, "ms", note=f"no rep counted in {clip.name}"))
            return
        for _ in range(rounds):
            for e in reps:
                acked.clear()
                sent[outbox.last_seq + 1] = time.perf_counter()
                pub.handle(e)  # what the pipeline's sink does when the counter decides
                acked.wait(2)
        p50, p95 = _percentiles(lat)
        report.add(Figure("latency", f"rep decided -> broker PUBACK (QoS 1, loopback, {len(lat)} reps)", p95, "ms p95", p50, p95,
                          ratio=p95 / 50 if p95 is not None else None, note="goal 50 ms beyond the voting window"))
    finally:
        pub.stop(flush_timeout_s=1)
        outbox.close()
        broker.terminate()
        broker.wait(10)


# -- all of it ---------------------------------------------------------------------------------------


def render_bench_clip(work: Path, seconds: float) -> Path:
    """A 30 fps 640x480 push-up clip, a camera's frames (the renderer needs no TensorFlow)."""
    from homegym.train.synth.clip import render_clip

    res = render_clip(work, "pushup", seed=1, duration=seconds, fps=30.0, size=(640, 480), name="bench")
    return work / f"{res.name}.mp4"


def run(model: Path | None, models: list[Path], cfg, clip: Path | None, keras_model: Path | None, short: bool,
        devices: list[str] | None) -> BenchReport:
    from homegym.daemon.inference import resolve_model_path

    seconds = 2.0 if short else 10.0
    core = make_core(None)
    report = BenchReport(machine(core))
    main = resolve_model_path(str(model) if model else cfg.model.path, cfg.model.precision)
    irs = [main] + [resolve_model_path(str(m), None) for m in models]
    work = Path(tempfile.mkdtemp(prefix="homegym-bench-"))
    try:
        clip = clip or render_bench_clip(work, 8.0 if short else 30.0)
        _, info = read_ir(main, core)
        frames = _frames(clip, info.working_size, 256, info.framing)
        int8 = int8_variant(core, main, frames, work)
        # The shipped IR as the daemon runs it, as OpenVINO would by default (bf16 on some CPUs), and
        # quantized to INT8; then any IRs given.
        variants = [(main, True, ""), (main, False, f"{info.precision} IR, OpenVINO's default precision")]
        variants += [(int8, True, "int8 of it")] if int8 else []
        infos = {ir: read_ir(ir, core)[1] for ir in [main, *([int8] if int8 else []), *irs[1:]]}
        for ir in irs[1:]:
            w, h = infos[ir].working_size
            variants.append((ir, True, f"{ir.parent.name}: {infos[ir].precision} IR, {w}x{h} in"))
        sized = {info.working_size: frames}  # each IR takes the clip's frames at its own working size
        for device in devices or [d for d in core.available_devices if d in ("CPU", "GPU", "NPU") or d.startswith("GPU")]:
            for ir, f32, label in variants:
                ir_info = infos[ir]
                if not f32 and (not device.startswith("CPU") or _float_precision(core, device) in (None, "f32")):
                    continue  # the same as the row before: only the CPU is told to compute in f32
                if ir_info.working_size not in sized:
                    sized[ir_info.working_size] = _frames(clip, ir_info.working_size, 256, ir_info.framing)
                for batch in sorted({1, ir_info.batch}):
                    for hint in ("LATENCY", "THROUGHPUT"):
                        report.add(model_figure(core, ir, device, hint, batch, sized[ir_info.working_size], seconds, f32, label))
        if int8:
            int8_figures(report, core, main, int8, frames, clip, cfg)
        else:
            report.add(Figure("model", "int8 of the shipped IR", None, "fps", note="NNCF not installed (pip install -e '.[train]')"))
        pipe_fps = pipeline_figures(report, main, clip, cfg, repeats=1 if short else 3)
        seed_figures(report, main, clip, keras_model, pipe_fps, seconds)
        for infer_fps in dict.fromkeys([cfg.pipeline.infer_fps, None]):  # the configured rate (shipped: 15), and every frame
            live_figures(report, main, clip, min(seconds * 2, 8.0) if short else 20.0, work, infer_fps)
        latency_figures(report, main, clip, cfg, work, rounds=1 if short else 5)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return report
