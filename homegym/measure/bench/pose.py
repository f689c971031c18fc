"""The pose stage's figures: each pose model alone, the stage against MediaPipe's own solution on the
same frames, and the offline pipeline's CPU a frame split into decoding, the models and the rest."""

from __future__ import annotations

import resource
import tempfile
import time
from importlib.util import find_spec
from itertools import islice
from pathlib import Path

import cv2
import numpy as np

from homegym.core.letterbox import Letterbox
from homegym.core.model_info import KeypointModelInfo
from homegym.core.pose_info import DETECTOR_FILE, LANDMARK_MODELS, landmarks_file, read_pose_ir
from homegym.core.runtime import compile_model
from homegym.core.video import iter_frames

from .model import float_precision
from .report import BenchReport, Figure, percentiles

STAGE_GOAL = 1.5  # the stage's frame rate against MediaPipe's, on the CPU
REST_GOAL = 0.20  # the pipeline's own work beyond decoding and the models, a share of its CPU a frame
REST_GOAL_MS = 1.2  # ... and in CPU time a frame, the full landmark model in f32 (the lighter box's goal)


def _cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def canvases(clip: Path, size: int, limit: int) -> list[np.ndarray]:
    lb = Letterbox(size)
    return [lb(f) for _, f in islice(iter_frames(clip), limit)]


def _tracker(cfg, threads: int | None):
    from homegym.daemon.pose.stage import open_pose

    return open_pose(cfg.pose.model_copy(update={"threads": threads, "precision": "f32"}), live=threads == 1,
                     cache_dir=None)


def model_figures(report: BenchReport, core, cfg, canvases: list[np.ndarray], seconds: float, devices: list[str]) -> None:
    """Detector and landmark model alone: per device, the f32 hint and OpenVINO's default, one thread and every core."""
    from homegym.daemon.pose.roi import warp
    from homegym.daemon.pose.stage import resolve_pose_dir

    folder = resolve_pose_dir(cfg.pose.path)
    tracker = _tracker(cfg, None)
    rois = [p.roi for p in (tracker.step(c, i / 30) for i, c in enumerate(canvases)) if p.found and p.roi is not None]
    crops = [warp(c, r, 256) for c, r in zip(canvases, rois)] or [cv2.resize(canvases[0], (256, 256))]
    inputs = {"detector": ("pose_detector", DETECTOR_FILE, [cv2.resize(c, (224, 224), interpolation=cv2.INTER_AREA)
                                                             for c in canvases])}
    inputs |= {f"landmarks {m}": ("pose_landmarks", landmarks_file(m), crops) for m in LANDMARK_MODELS
               if (folder / landmarks_file(m)).exists()}
    for device in devices:
        for name, (kind, file, frames) in inputs.items():
            model, _ = read_pose_ir(folder / file, kind)
            for f32 in (True, False):
                if not f32 and (not device.startswith("CPU") or float_precision(core, device) in (None, "f32")):
                    if device.startswith("CPU"):
                        report.add(Figure("pose", f"{name} alone, OpenVINO's default precision on {device}",
                                          None, "fps", note="the default is f32 on this CPU: the f32 rows are it",
                                          key=f"pose/{name.replace(' ', '_')}/{device}/default"))
                    continue
                for threads in ((1, None) if device.startswith("CPU") else (None,)):
                    compiled = compile_model(core, model, device, "LATENCY", cpu_threads=threads, cpu_precision="f32" if f32 else "auto")
                    req = compiled.create_infer_request()
                    lat: list[float] = []
                    t0 = time.perf_counter()
                    while time.perf_counter() - t0 < seconds or not lat:
                        t = time.perf_counter()
                        req.infer({0: frames[len(lat) % len(frames)][None]})
                        lat.append(time.perf_counter() - t)
                    p50, p95 = percentiles(lat)
                    runs = float_precision(compiled) or "its own precision"
                    where = f"{device}, {'1 thread' if threads == 1 else 'every core'}" if device.startswith("CPU") else device
                    report.add(Figure("pose", f"{name} alone, runs {runs} on {where}"
                                      f"{'' if f32 else ' (OpenVINO default precision)'}", len(lat) / (time.perf_counter() - t0),
                                      "fps", p50, p95, key=f"pose/{name.replace(' ', '_')}/{device}/"
                                      f"{'f32' if f32 else 'default'}/{'1' if threads == 1 else 'all'}"))


def _reference_fps(clip: Path, frames: int, python: Path | None) -> tuple[float | None, str]:
    """MediaPipe's own frames per second on the clip's first ``frames`` (decoding excluded), in its venv or this interpreter."""
    import sys

    from homegym.core.errors import UserError
    from homegym.measure.pose_parity import run_reference

    exe = python or (Path(sys.executable) if find_spec("mediapipe") else None)
    if exe is None:
        return None, "skipped: mediapipe is not importable here; give --reference-python (scripts/pose_reference_venv.sh)"
    with tempfile.TemporaryDirectory() as tmp:
        try:
            seconds = run_reference(exe, clip, Path(tmp) / "ref.npz", frames=frames)
        except UserError as e:
            return None, f"skipped: {str(e)[:200]}"
    return 1.0 / seconds, "MediaPipe 0.10.14 solutions.pose (model_complexity 1), same frames, same run"


def stage_figures(report: BenchReport, cfg, clip: Path, reference_python: Path | None, limit: int) -> None:
    """The stage on the clip's frames (letterbox included, decoding not), one thread and every core; MediaPipe beside it."""
    frames = [f for _, f in islice(iter_frames(clip), limit)]
    ref_fps, note = _reference_fps(clip, len(frames), reference_python) if frames else (None, "no frames")
    for threads in (1, None):
        tracker = _tracker(cfg, threads)
        lb = Letterbox(cfg.pose.frame_size)
        canvas = np.zeros((cfg.pose.frame_size, cfg.pose.frame_size, 3), np.uint8)
        t0 = time.perf_counter()
        for i, f in enumerate(frames):
            tracker.step(lb(f, dst=canvas), i / 30)
        fps = len(frames) / (time.perf_counter() - t0)
        report.add(Figure("pose", f"pose stage on {len(frames)} frames of the clip, CPU, {'1 thread' if threads == 1 else 'every core'} "
                          f"(detector on {tracker.detections})", fps, "fps",
                          ratio=fps / ref_fps / STAGE_GOAL if ref_fps else None,
                          note=f"against MediaPipe's {ref_fps:.1f} fps: {fps / ref_fps:.2f}x, goal {STAGE_GOAL}x" if ref_fps else note,
                          key=f"pose/stage/{'1' if threads == 1 else 'all'}"))
    report.add(Figure("pose", "MediaPipe's own Python solution on the same frames", ref_fps, "fps", note=note, key="pose/mediapipe"))


def pipeline_parts(report: BenchReport, model: Path, clip: Path, cfg) -> None:
    """The offline pipeline with the pose stage on every frame, one thread a pose model: its CPU a frame, and what of it
    is decoding (a decode-only pass), the models' inference (the pose models' own CPU inside the run; the classifier's
    measured alone on the same compiled model) and the rest (letterbox, crop, the outputs' decoding, smoothing, framing,
    voting, counting, the loop, and the runtime's threads around the models)."""
    from homegym.daemon.classify.image import ImageClassifier
    from homegym.daemon.classify.keypoints import KeypointClassifier
    from homegym.daemon.config.settings import for_file
    from homegym.daemon.pipeline.pipeline import Pipeline

    run_cfg = for_file(cfg, clip).with_values("pose", enabled=True, threads=1).with_values("pipeline", infer_fps=None)
    pipe = Pipeline.open(run_cfg, model)
    pipe.start()
    tracker = pipe.pose
    assert tracker is not None
    c0 = _cpu_s()
    summary = pipe.run()
    n = summary.frames
    total = (_cpu_s() - c0) / n
    pose_models = (tracker.detector.infer_cpu_s + tracker.landmarks.infer_cpu_s) / n
    c0 = _cpu_s()
    decoded = sum(1 for _ in iter_frames(clip))
    decode = (_cpu_s() - c0) / decoded * summary.frames_read / n  # every frame read is decoded
    inf = pipe.classifier
    assert isinstance(inf, ImageClassifier | KeypointClassifier), "a kind this bench knows how to feed"
    req = inf.compiled.create_infer_request()
    x = (np.zeros((1, inf.info.width), np.float32) if isinstance(inf.info, KeypointModelInfo)
         else np.zeros((inf.batch, *inf.working_size[::-1], 3), np.uint8))
    rounds = max(2, 64 // inf.batch)
    req.infer({0: x})
    c0 = _cpu_s()
    for _ in range(rounds):
        req.infer({0: x})
    classifier = (_cpu_s() - c0) / (rounds * inf.batch)
    models = pose_models + classifier
    rest = total - decode - models
    report.add(Figure("pose", f"offline pipeline with the pose stage, every frame of the clip ({n}), CPU a frame", 1000 * total, "ms",
                      note=f"decoding {1000 * decode:.2f} ms, models {1000 * models:.2f} ms (pose {1000 * pose_models:.2f}, detector "
                      f"on {tracker.detections} frames; classifier {1000 * classifier:.2f}), the rest {1000 * rest:.2f} ms",
                      key="pose/pipeline-parts"))
    report.add(Figure("pose", "the pipeline's own work beyond decoding and the models, a share of its CPU a frame", 100 * rest / total,
                      "%", ratio=(rest / total) / REST_GOAL, note=f"goal at most {100 * REST_GOAL:.0f} %", key="pose/rest"))
    report.add(Figure("pose", f"the pipeline's own work beyond decoding and the models a frame, pose.model {cfg.pose.model}, "
                      f"{cfg.pose.precision}", 1000 * rest, "ms", ratio=1000 * rest / REST_GOAL_MS,
                      note=f"goal at most {REST_GOAL_MS:g} ms", key="pose/rest-ms"))
