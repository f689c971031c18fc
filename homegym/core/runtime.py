"""OpenVINO devices and compilation, shared by convert (as a check) and the daemon.

The NPU compiles only static shapes, and is not in AUTO's default list, so devices
are named explicitly (``AUTO:NPU,CPU``). A cache directory makes the daemon's
restart skip the compile it has already paid for.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np

from .errors import UserError, openvino_reason

log = logging.getLogger(__name__)
KNOWN = ("CPU", "GPU", "NPU")


def default_cache() -> Path:
    """systemd's CacheDirectory= ($CACHE_DIRECTORY) for the service, else the user's cache."""
    systemd = os.environ.get("CACHE_DIRECTORY", "").split(":")[0]
    base = Path(systemd) if systemd else Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "homegym"
    return base / "ov_cache"


DEFAULT_CACHE = default_cache()


def make_core(cache_dir: Path | None = DEFAULT_CACHE):
    """A Core with the model cache on; a cache that cannot be created costs a compile, not the run."""
    import openvino as ov

    core = ov.Core()
    if cache_dir is not None:
        try:
            Path(cache_dir).mkdir(parents=True, exist_ok=True)
            core.set_property({"CACHE_DIR": str(cache_dir)})
        except OSError as e:
            log.warning("model cache %s unusable (%s): compiling without it", cache_dir, e.strerror or e)
    return core


def check_device(core, device: str) -> None:
    """Raise a one-line error naming the present devices when ``device`` cannot run here."""
    present = list(core.available_devices)
    listed = ", ".join(present) or "none"
    name, _, rest = device.partition(":")
    if name in ("AUTO", "MULTI", "HETERO"):
        wanted = [d.strip() for d in rest.split(",") if d.strip()] if rest else present
        unknown = [d for d in wanted if d.split(".")[0] not in KNOWN]
        if unknown:
            raise UserError(f"unknown device {unknown[0]!r} in {device!r}: use CPU, GPU or NPU (present: {listed})")
        if not any(_present(d, present) for d in wanted):
            raise UserError(f"none of the devices in {device!r} is available here; present: {listed}")
        return
    if device.split(".")[0] not in KNOWN:
        raise UserError(f"unknown device {device!r}: use CPU, GPU, NPU or AUTO[:list] (present: {listed})")
    if not _present(device, present):
        raise UserError(f"device {device} is not available here; present: {listed}")


def _present(device: str, present: list[str]) -> bool:
    return device in present or any(p.split(".")[0] == device for p in present)


def compile_model(core, model, device: str, hint: str = "LATENCY", cpu_threads: int | None = None,
                  cpu_precision: str = "f32"):
    """Compile on ``device`` with a performance hint.

    On the CPU, ``cpu_precision`` is the floating-point precision an IR computes in, FP16 ones too: f32 by
    default, since OpenVINO's own default on a CPU with AVX-512 BF16 is bf16, which changes the image
    classifier's counts on real clips (measured 2026-11-24: no better, no worse, but different from CPU
    to CPU) and whose speed depends on the CPU (0.57-0.72x f32 on an Intel Xeon without AMX, 1.0-3.4x on
    an AMD Zen 4). ``bf16`` asks for it (the pose stage's measured choice: ``pose_precision``); ``auto``
    leaves it to OpenVINO (``model.cpu_precision: auto``). ``cpu_threads`` caps the threads one request
    uses on the CPU: a single frame split across cores costs more CPU time in synchronisation than it
    saves in latency.
    """
    check_device(core, device)
    config: dict[str, str | int] = {"PERFORMANCE_HINT": hint}
    if cpu_precision != "auto" and device.startswith("CPU"):
        config["INFERENCE_PRECISION_HINT"] = cpu_precision
    if cpu_threads and device.startswith("CPU"):
        config["INFERENCE_NUM_THREADS"] = cpu_threads
    try:
        return core.compile_model(model, device, config)
    except RuntimeError as e:
        raise UserError(f"cannot compile the model on {device}: {openvino_reason(e)}") from None


def cpu_has_bf16(core) -> bool:
    """The CPU computes bf16 natively (AVX-512 BF16 or AMX): OpenVINO lists it among the CPU's capabilities."""
    try:
        return "BF16" in core.get_property("CPU", "OPTIMIZATION_CAPABILITIES")
    except RuntimeError:
        return False


# The landmark models whose counts hold under bf16 with the shipped classifier: none. Measured 2026-12-07 on the eval
# split and out of fold (docs/model-card.md): full changes 12 of the 54 eval clips' counts under bf16 (MAE 0.105 against
# 0.080) and lite 10 (0.093 against 0.058); heavy was not measured. ``pose.precision: bf16`` asks for it all the same.
BF16_HOLDS: tuple[str, ...] = ()


def pose_precision(setting: str, has_bf16: bool, model: str) -> str:
    """What ``pose.precision`` computes in on the CPU: ``auto`` is bf16 where the CPU has it and the landmark model's
    counts were measured to hold under it (``BF16_HOLDS``), ``bf16`` wherever the CPU has it, else f32. A measured
    choice, not a probe at run time."""
    if not has_bf16 or setting == "f32":
        return "f32"
    return "bf16" if setting == "bf16" or model in BF16_HOLDS else "f32"


def infer_all(compiled, frames: np.ndarray, batch: int) -> np.ndarray:
    """Run every frame through a static-batch model, padding the last batch; returns the outputs."""
    req = compiled.create_infer_request()
    out = []
    for i in range(0, len(frames), batch):
        chunk = frames[i : i + batch]
        n = len(chunk)
        if n < batch:
            chunk = np.concatenate([chunk, np.repeat(chunk[-1:], batch - n, axis=0)])
        res = req.infer({0: np.ascontiguousarray(chunk)})
        out.append(next(iter(res.values()))[:n].copy())
    return np.concatenate(out) if out else np.zeros((0, 0), np.float32)
