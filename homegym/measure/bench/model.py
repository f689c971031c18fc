"""The IR alone: frames per second per device, precision, batch and hint; and what INT8 costs in decisions."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from homegym.core.model_info import read_ir
from homegym.core.runtime import compile_model

from .report import BenchReport, Figure, percentiles


def model_figure(core, path: Path, device: str, hint: str, batch: int, frames: np.ndarray, seconds: float,
                 f32: bool = True, label: str = "", variant: str = "shipped") -> Figure:
    """Frames per second and the latency of each inference call (a frame waits for its whole batch).

    ``f32``: on the CPU, compute in f32 as the daemon does (an FP16 IR's weights are widened);
    otherwise OpenVINO picks, bf16 on a CPU with AVX-512 BF16. The row names what ran.
    """
    import openvino as ov

    model, info = read_ir(path)
    if batch != info.batch:
        shape = list(model.input(0).get_partial_shape().to_shape())
        model.reshape([batch, *shape[1:]])
    compiled = compile_model(core, model, device, hint, cpu_precision="f32" if f32 else "auto")
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
    p50, p95 = percentiles(lat)
    runs = float_precision(compiled)
    return Figure("model", f"{label or info.precision + ' IR'}, {f'runs {runs} on' if runs else 'on'} {device} batch {batch} {hint}",
                  done / elapsed, "fps", p50, p95, key=f"model/{variant}/{device}/batch{batch}/{hint.lower()}")


def float_precision(owner, *device: str) -> str | None:
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

    model, info = read_ir(ir)
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
    from homegym.daemon.config.settings import for_file
    from homegym.daemon.pipeline.observer import Collect
    from homegym.daemon.pipeline.pipeline import Pipeline

    probs, reps = [], []
    for path in (ir, int8):
        model, info = read_ir(path)
        probs.append(infer_all(compile_model(core, model, "CPU"), frames[1::2], info.batch))
        events = Collect()
        Pipeline.open(for_file(cfg, clip), path, events).run()
        reps.append(sum(e.type == "rep" for e in events.events))
    agree = float((probs[0].argmax(1) == probs[1].argmax(1)).mean())
    report.add(Figure("model", f"int8 against the shipped IR: top-1 agreement on {len(probs[0])} frames of the clip "
                      "that calibration never saw", 100 * agree, "%", key="model/int8/agreement"))
    report.add(Figure("model", f"int8: reps counted on the clip by homegym count (the shipped IR: {reps[0]})", reps[1], "reps",
                      note=f"the shipped IR: {reps[0]}", key="model/int8/reps"))
