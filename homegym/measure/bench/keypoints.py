"""The keypoint classifier's figures: its features and its IR a frame, and ``homegym count`` with it against the
image classifier on the same clip in the same run (what a user gives up, or gains, in speed by each kind)."""

from __future__ import annotations

import statistics
import subprocess
import time
from pathlib import Path

from homegym.core.errors import UserError
from homegym.core.keypoint_features import FeatureStream
from homegym.daemon.classify.factory import DEFAULT_MODEL_DIR

from .live import live_share
from .report import BenchReport, Figure

FEATURES_AND_CLASSIFIER_MS = 1.0  # the eight-exercise issue's bound on the keypoint classifier's own work a frame


def ir_from_git(rev: str, work: Path) -> Path:
    """The shipped default IR as git holds it at ``rev`` (a baseline measured in the same run as the model of now)."""
    top = subprocess.run(["git", "-C", str(DEFAULT_MODEL_DIR), "rev-parse", "--show-toplevel"], capture_output=True, text=True)
    if top.returncode:
        raise UserError(f"--baseline {rev}: not in a git clone ({top.stderr.strip()[:200]})")
    where = DEFAULT_MODEL_DIR.resolve().relative_to(Path(top.stdout.strip()))
    folder = work / "baseline"
    folder.mkdir(exist_ok=True)
    for name in ("model.xml", "model.bin"):
        r = subprocess.run(["git", "-C", top.stdout.strip(), "show", f"{rev}:{where / name}"], capture_output=True)
        if r.returncode:
            raise UserError(f"--baseline {rev}: git has no {where / name} there ({r.stderr.decode(errors='replace').strip()[:200]})")
        (folder / name).write_bytes(r.stdout)
    return folder / "model.xml"


def baseline_figures(report: BenchReport, model: Path, baseline: Path, rev: str, clip: Path, seconds: float, work: Path,
                     infer_fps: float | None, rounds: int = 3) -> None:
    """``homegym run`` live with the model and with the baseline IR, interleaved (A B A B ...) so a shared machine's
    drift falls on both alike: the CPU of each round, and the ratio of the medians."""
    share: dict[str, list[float]] = {"model": [], "baseline": []}
    for _ in range(rounds):
        for name, ir in (("model", model), ("baseline", baseline)):
            share[name].append(live_share(ir, clip, seconds, work, infer_fps, pose=True)[0])
    mine, base = (statistics.median(share[k]) for k in ("model", "baseline"))
    rounds_text = ", ".join(f"{100 * a:.1f}/{100 * b:.1f}" for a, b in zip(share["model"], share["baseline"]))
    report.add(Figure("keypoints", f"homegym run live with the default of git {rev}, pose stage and classifier, median of "
                      f"{rounds} interleaved rounds of {seconds:.0f} s", 100 * base, "% of one core", key="keypoints/live-baseline"))
    report.add(Figure("keypoints", f"homegym run live with this model, the same rounds (this/baseline each round: {rounds_text})",
                      100 * mine, "% of one core", ratio=mine / base if base else None, note=f"git {rev}'s default; goal at most 1.10",
                      key="keypoints/live-model"))


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
    stream = FeatureStream(inf.info.features, max(track.width, track.height))  # the file's pixels
    req = inf.compiled.create_infer_request()
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
    report.add(Figure("keypoints", f"classifier IR a frame ({inf.info.width} features, {len(inf.labels)} labels, one thread)",
                      1000 * (t2 - t1) / n, "ms", key="keypoints/classifier"))
    both = 1000 * (t2 - t0) / n
    report.add(Figure("keypoints", "features and classifier together a frame", both, "ms", ratio=both / FEATURES_AND_CLASSIFIER_MS,
                      note=f"goal at most {FEATURES_AND_CLASSIFIER_MS:g} ms", key="keypoints/features+classifier"))
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
