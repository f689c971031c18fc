"""The keypoint classifier's figures: its features and its IR a frame, and ``homegym count`` with it against the
image classifier on the same clip in the same run (what a user gives up, or gains, in speed by each kind)."""

from __future__ import annotations

import time
from pathlib import Path

from homegym.core.keypoint_features import FeatureStream

from .report import BenchReport, Figure


def keypoint_figures(report: BenchReport, keypoint_ir: Path, image_ir: Path, clip: Path, cfg) -> None:
    from homegym.daemon.classify.keypoints import KeypointClassifier
    from homegym.daemon.config.settings import for_file
    from homegym.daemon.pipeline.pipeline import Pipeline
    from homegym.daemon.pose.record import record

    file_cfg = for_file(cfg, clip)
    pipe = Pipeline.open(file_cfg, keypoint_ir)
    pipe.start()
    inf = pipe.classifier
    assert pipe.pose is not None and isinstance(inf, KeypointClassifier)
    track = record(clip, pipe.pose, cfg.pose.frame_size)
    stream, req = FeatureStream(inf.info.features), inf.compiled.create_infer_request()
    xy = track.xy
    t0 = time.process_time()
    feats = [stream.step(float(track.t[i]), xy[i], track.world[i], track.landmarks[i, :, 3], float(track.presence[i]),
                         bool(track.found[i])) for i in range(len(track.t))]
    t1 = time.process_time()
    for x in feats:
        req.infer({0: x[None]})
    t2 = time.process_time()
    n = len(feats)
    report.add(Figure("keypoints", f"features a frame (NumPy, the {inf.info.features.window_s:g} s causal window), "
                      f"{n} frames", 1000 * (t1 - t0) / n, "ms", key="keypoints/features"))
    report.add(Figure("keypoints", f"classifier IR a frame ({inf.info.width} features, one thread)", 1000 * (t2 - t1) / n, "ms",
                      key="keypoints/classifier"))
    fps = {}
    for name, ir in (("keypoints", keypoint_ir), ("image", image_ir)):
        best = 0.0
        for _ in range(2):  # best of two: a shared machine's noise only slows
            s = Pipeline.open(file_cfg, ir).run()
            best = max(best, s.frames / s.wall_s)
        fps[name] = best
    report.add(Figure("keypoints", "homegym count with the image classifier (no pose stage), frames inferred a second",
                      fps["image"], "fps", key="keypoints/count-image"))
    report.add(Figure("keypoints", "homegym count with the keypoint classifier (pose stage + features + classifier)", fps["keypoints"],
                      "fps", ratio=fps["keypoints"] / fps["image"], note="the image classifier's pipeline",
                      key="keypoints/count-keypoints"))
