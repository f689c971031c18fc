"""``homegym bench``: how fast, measured against the alternatives in one run on one machine.

Figures: the IR alone (each device, each precision given, batch 1 and the daemon's
batch, LATENCY and THROUGHPUT hints); the whole offline pipeline on a clip and its
ratio to the IR alone on the same frames; the seed's way (Keras ``predict`` per
frame, and batched) where TensorFlow is installed; the live daemon's CPU share and
memory on a 30 fps real-time source; and the time from a rep's decision to the
broker's acknowledgement of its event on loopback; the pose stage's models alone, the stage against
MediaPipe's own solution on the same frames (where a Python with mediapipe is at hand), the
offline pipeline's CPU a frame by part (with the full landmark model in f32, the baseline of the lighter box), and the
live CPU with the stage on against that baseline, the person moving, still and out of view; the live page's CPU, off, on
with nobody watching and with a page open, in turn. ``--short`` spends a few seconds
per figure (CI); the default is the full run.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from homegym.core.model_info import KeypointModelInfo, read_ir, read_model_ir
from homegym.core.runtime import make_core
from homegym.core.video import still_video

from .keypoints import baseline_figures, ir_from_git, keypoint_figures
from .latency import latency_figures
from .lighter import BASELINE, lighter_figures
from .live import live_figures, live_page_figures
from .model import float_precision, int8_figures, int8_variant, model_figure
from .pipeline import pipeline_figures
from .pose import canvases, pipeline_parts, stage_figures
from .pose import model_figures as pose_model_figures
from .report import BenchReport, Figure, clip_frames, machine
from .seed import seed_figures

__all__ = ["BenchReport", "Figure", "run"]


def render_bench_clip(work: Path, seconds: float, kind: str = "pushup") -> Path:
    """A 30 fps 640x480 clip (push-ups; or an empty room), a camera's frames (the renderer needs no TensorFlow)."""
    from homegym.train.synth.clip import render_clip

    res = render_clip(work, kind, seed=1, duration=seconds, fps=30.0, size=(640, 480), name=f"bench_{kind}")
    return work / f"{res.name}.mp4"


def run(model: Path | None, models: list[Path], cfg, clip: Path | None, keras_model: Path | None, short: bool,
        devices: list[str] | None, reference_python: Path | None = None, pose_only: bool = False,
        baseline: str | None = None) -> BenchReport:
    """The pose stage and the configured model as the daemon runs it (the keypoint classifier, shipped), then the
    image classifier's figures: the configured one where that is an image classifier, else the shipped one."""
    from homegym.daemon.classify.factory import IMAGE_MODEL_DIR, resolve_model_path

    seconds = 0.5 if short else 10.0  # each model's timed loop; short: a smoke run of each
    core = make_core(None)
    report = BenchReport(machine(core))
    configured = resolve_model_path(str(model) if model else cfg.model.path, cfg.model.precision)
    keypoints = isinstance(read_model_ir(configured)[1], KeypointModelInfo)
    main = resolve_model_path(str(IMAGE_MODEL_DIR), None) if keypoints else configured  # the image classifier's figures
    irs = [main] + [resolve_model_path(str(m), None) for m in models]
    work = Path(tempfile.mkdtemp(prefix="homegym-bench-"))
    try:
        clip = clip or render_bench_clip(work, 8.0 if short else 30.0)
        present = devices or [d for d in core.available_devices if d in ("CPU", "GPU", "NPU") or d.startswith("GPU")]
        pose_model_figures(report, core, cfg, canvases(clip, cfg.pose.frame_size, 64), seconds, present)
        stage_figures(report, cfg, clip, reference_python, 120 if short else 450)
        pipeline_parts(report, configured, clip, cfg.model_copy(update={"pose": cfg.pose.model_copy(update=BASELINE["pose"])}))
        live_seconds = 2.0 if short else 20.0  # short: a smoke run of each, the daemon up for 2 s
        # the image classifier without the stage: the baseline of the stage's live cost (the full run measures it below)
        if pose_only:
            live_figures(report, main, clip, live_seconds, work, cfg.pipeline.infer_fps)
        scenes = {"moving": clip, "still": still_video(clip, work / "bench_still.mp4", 8.0 if short else 30.0),
                  "nobody": render_bench_clip(work, 8.0 if short else 30.0, "empty")}
        lighter_figures(report, configured, scenes, cfg, live_seconds, work, rounds=1 if short else 3)
        live_page_figures(report, configured, clip, live_seconds, work, cfg.pipeline.infer_fps, rounds=1 if short else 3)
        if keypoints:
            keypoint_figures(report, configured, main, clip, cfg)
            if baseline:
                baseline_figures(report, configured, ir_from_git(baseline, work), baseline, clip, live_seconds, work,
                                 cfg.pipeline.infer_fps, rounds=1 if short else 3)
        if pose_only:
            return report
        _, info = read_ir(main)
        frames = clip_frames(clip, info.working_size, 256, info.framing)
        int8 = int8_variant(core, main, frames, work)
        # The shipped IR as the daemon runs it, as OpenVINO would by default (bf16 on some CPUs), and
        # quantized to INT8; then any IRs given.
        variants = [(main, True, "", "shipped"), (main, False, f"{info.precision} IR, OpenVINO's default precision", "shipped-default")]
        variants += [(int8, True, "int8 of it", "int8")] if int8 else []
        infos = {ir: read_ir(ir)[1] for ir in [main, *([int8] if int8 else []), *irs[1:]]}
        for ir in irs[1:]:
            w, h = infos[ir].working_size
            variants.append((ir, True, f"{ir.parent.name}: {infos[ir].precision} IR, {w}x{h} in", f"given-{ir.parent.name}"))
        sized = {info.working_size: frames}  # each IR takes the clip's frames at its own working size
        for device in present:
            for ir, f32, label, variant in variants:
                ir_info = infos[ir]
                if not f32 and (not device.startswith("CPU") or float_precision(core, device) in (None, "f32")):
                    continue  # the same as the row before: only the CPU is told to compute in f32
                if ir_info.working_size not in sized:
                    sized[ir_info.working_size] = clip_frames(clip, ir_info.working_size, 256, ir_info.framing)
                for batch in sorted({1, ir_info.batch}):
                    for hint in ("LATENCY", "THROUGHPUT"):
                        report.add(model_figure(core, ir, device, hint, batch, sized[ir_info.working_size], seconds, f32, label,
                                                variant))
        if int8:
            int8_figures(report, core, main, int8, frames, clip, cfg)
        else:
            report.add(Figure("model", "int8 of the shipped IR", None, "fps", note="NNCF not installed (pip install -e '.[train]')",
                              key="model/int8"))
        pipe_fps = pipeline_figures(report, main, clip, cfg, repeats=1 if short else 3)
        seed_figures(report, main, clip, keras_model, pipe_fps, seconds)
        for infer_fps in dict.fromkeys([cfg.pipeline.infer_fps, None]):  # the configured rate (shipped: 15), and every frame
            live_figures(report, main, clip, live_seconds, work, infer_fps)
        latency_figures(report, main, clip, cfg, work, rounds=1 if short else 5)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return report
