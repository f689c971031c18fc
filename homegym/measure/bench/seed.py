"""The seed's way: Keras ``predict`` per frame and batched, where TensorFlow is installed."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from homegym.core.model_info import read_ir
from homegym.train import keras_import

from .report import BenchReport, Figure, clip_frames


def seed_figures(report: BenchReport, model: Path, clip: Path, keras_model: Path | None, pipe_fps: float, seconds: float) -> None:
    try:
        keras = keras_import.keras()
    except ImportError:
        report.add(Figure("seed", "Keras per frame", None, "fps", note="TensorFlow not installed (pip install -e '.[train]')",
                          key="seed/keras-per-frame"))
        return
    _, info = read_ir(model)
    if keras_model is not None:
        km = keras.models.load_model(keras_model)
        what = keras_model.name
    else:  # speed depends on the architecture, not on the weights
        from homegym.train.image.model import build

        km = build(info.labels, info.input_size, float(info.provenance.get("alpha", 1.0)), "none")
        what = f"same architecture, {info.input_size} px"
    frames = clip_frames(clip, (info.input_size, info.input_size), 100_000, info.framing)[..., ::-1].astype(np.float32)  # RGB, as trained
    km.predict(frames[:1], verbose=0)
    n, t = 0, time.perf_counter()
    while time.perf_counter() - t < seconds or n == 0:
        km.predict(frames[n % len(frames)][None], verbose=0)
        n += 1
    per_frame = n / (time.perf_counter() - t)
    t = time.perf_counter()
    km.predict(frames, batch_size=32, verbose=0)
    batched = len(frames) / (time.perf_counter() - t)
    report.add(Figure("seed", f"Keras model.predict per frame ({what})", per_frame, "fps", key="seed/keras-per-frame"))
    report.add(Figure("seed", f"Keras predict batched 32 ({what})", batched, "fps", key="seed/keras-batched"))
    report.add(Figure("seed", "homegym count against Keras per frame", pipe_fps, "fps", ratio=pipe_fps / per_frame,
                      note="Keras per frame (goal >= 5)", key="seed/count-against-per-frame"))
    report.add(Figure("seed", "homegym count against Keras batched", pipe_fps, "fps", ratio=pipe_fps / batched, note="Keras batched",
                      key="seed/count-against-batched"))
