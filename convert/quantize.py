"""INT8 post-training quantization with NNCF, calibrated on real training frames.

Plain post-training quantization of MobileNetV2 flipped ~10 % of top-1 decisions on
the development machine (an AVX2 CPU without VNNI, where OpenVINO's int8 kernels add
their own error). NNCF's accuracy control fixes that at a small cost in speed: it
reverts the most sensitive layers to floating point until the quantized model agrees
with FP32 on held-back *training* frames within ``max_drop``; held-out frames are never
looked at here.
"""

from __future__ import annotations

import numpy as np


def _batches(frames: np.ndarray, batch: int) -> list[np.ndarray]:
    """Whole static batches (a short tail is dropped: the IR takes only full ones)."""
    n = len(frames) // batch * batch
    return [frames[i : i + batch] for i in range(0, n, batch)]


def plain(model, calibration: np.ndarray, batch: int):
    """Plain post-training quantization (no accuracy control): the fastest INT8 model, for speed figures."""
    import nncf

    cal = _batches(calibration, batch)
    return nncf.quantize(model, nncf.Dataset(cal), subset_size=len(cal) * batch)


def int8(model, calibration: np.ndarray, control: np.ndarray, control_ref: np.ndarray, batch: int, max_drop: float = 0.01):
    """Quantize an OpenVINO model. ``calibration``/``control``: uint8 BGR frames at the working size;
    ``control_ref``: FP32's top-1 on ``control``, the metric being agreement with it."""
    import nncf

    cal = _batches(calibration, batch)
    ctl = list(zip(_batches(control, batch), _batches(control_ref[:, None], batch)))

    def agreement(compiled, data) -> float:
        hits = [compiled(np.ascontiguousarray(x))[0].argmax(1) == ref[:, 0] for x, ref in data]
        return float(np.concatenate(hits).mean())

    return nncf.quantize_with_accuracy_control(
        model,
        nncf.Dataset(cal, np.ascontiguousarray),
        nncf.Dataset(ctl, lambda item: np.ascontiguousarray(item[0])),
        validation_fn=agreement,
        max_drop=max_drop,
        drop_type=nncf.DropType.ABSOLUTE,
        subset_size=len(cal),
    )
