"""Commands that measure: ``eval`` (counts against the truth), ``tune`` (voting settings), ``bench`` (speed)."""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path
from typing import Any

from homegym.core.errors import UserError

from .parsing import add, load_config

log = logging.getLogger("homegym")


def eval_cmd(a: argparse.Namespace) -> int:
    from homegym.measure import evaluate

    report = evaluate.run(a.manifest, load_config(a.config), a.model, a.split, a.poses, a.tracks, a.live)
    if a.json:
        print(report.to_json())
    else:
        print(evaluate.markdown(report))
    if a.out:
        a.out.mkdir(parents=True, exist_ok=True)
        (a.out / "eval.md").write_text(evaluate.markdown(report) + "\n")
        (a.out / "eval.json").write_text(report.to_json() + "\n")
        if evaluate.chart(report, a.out / "eval.png"):
            log.info("wrote %s", a.out / "eval.png")
    return 0


def form_check_cmd(a: argparse.Namespace) -> int:
    from homegym.measure import form_check

    if a.jobs < 1:
        raise UserError(f"--jobs must be 1 or more, got {a.jobs}")
    report = form_check.run(a.manifest, load_config(a.config), a.model, a.split, a.poses, a.jobs, a.clips)
    print(report.to_json() if a.json else form_check.markdown(report))
    if a.out:
        a.out.mkdir(parents=True, exist_ok=True)
        (a.out / "form.md").write_text(form_check.markdown(report) + "\n")
        (a.out / "form.json").write_text(report.to_json() + "\n")
        log.info("wrote %s and %s", a.out / "form.md", a.out / "form.json")
    return 0


def pose_parity_cmd(a: argparse.Namespace) -> int:
    from homegym.daemon.pose.stage import open_pose
    from homegym.measure import pose_parity

    cfg = load_config(a.config).pose
    if a.pose_model:
        cfg = cfg.model_copy(update={"model": a.pose_model})
    if a.stride < 1:
        raise UserError("--stride: at least 1")
    clips = pose_parity.clips_of(a.manifest, a.clips, a.limit)
    tracker = open_pose(cfg, live=False)
    results = []
    for video, view in clips:
        r = pose_parity.clip_parity(video, view, tracker, cfg.frame_size, a.reference_python, a.same_canvas, a.stride, cfg.model)
        log.info("%s: found %.1f%%, median error %.4f", r.clip, 100 * r.found_share, r.median_error)
        results.append(r)
        if a.out:  # as it goes: a run over every clip takes hours on a small machine
            a.out.write_text(pose_parity.table(results) + "\n")
    print(pose_parity.table(results))
    return 0


def _manifest_args(s: argparse.ArgumentParser, split_help: str, config_help: str) -> None:
    """What eval and tune take alike: the clips, which of them, the model and the config."""
    s.add_argument("manifest", type=Path, help="a clip manifest in the format of ../shared/data/clips.csv")
    s.add_argument("--split", help=split_help)
    s.add_argument("--model", type=Path, help="overrides model.path (default: the shipped model)")
    s.add_argument("--config", type=Path, help=f"{config_help} (default: built-in defaults)")


def tune_cmd(a: argparse.Namespace) -> int:
    from homegym.measure import evaluate, tune

    if a.top < 1:
        raise UserError(f"--top must be 1 or more, got {a.top}")
    if a.tracks is not None and a.oof is None:
        raise UserError("--tracks goes with --oof (a model run keeps the poses of its own pose stage)")
    cfg = load_config(a.config)
    if a.grid == "exercise":
        recordings = tune.recordings(a.manifest, cfg, a.model, a.split, a.held_back, a.oof, a.tracks)
        current = tune.score(recordings, cfg)
        best = tune.per_exercise(recordings, cfg)
        print(json.dumps({ex: {**c.values, "mae": c.report.mae, "obo": c.report.obo} for ex, c in best.items()}, indent=1)
              if a.json else evaluate.markdown(current) + "\n\n" + tune.per_exercise_markdown(current, best, cfg))
        return 0
    current, ranked = tune.run(a.manifest, cfg, a.model, a.split, a.held_back, a.grid, a.oof, a.tracks)
    print(tune.to_json(current, ranked, a.grid) if a.json else tune.markdown(current, ranked, a.top, a.grid))
    return 0


def bench_cmd(a: argparse.Namespace) -> int:
    from homegym.measure import bench

    report = bench.run(a.model, a.models or [], load_config(a.config), a.clip, a.keras, a.short, a.device, a.reference_python,
                       a.pose_only, a.baseline)
    print(report.markdown())
    if a.json:
        a.json.write_text(report.to_json() + "\n")
        log.info("wrote %s", a.json)
    return 0


def register(sub: Any) -> None:
    s = add(sub, "eval", "count every clip of a manifest with the full pipeline and score it against the truth",
             "  homegym eval ../shared/data/clips.csv --split eval --out runs/eval\n"
             "  homegym eval my_clips.csv --model models/mine --config config.yaml --json\n", eval_cmd)
    _manifest_args(s, "only the clips of this split (train or eval)", "config.yaml for voting and counting")
    s.add_argument("--poses", type=Path, help="pose traces for the per-frame labels (default: poses/ beside the manifest)")
    s.add_argument("--tracks", type=Path, help="the clips' keypoints (homegym poses MANIFEST -o DIR): per-frame labels by "
                                               "the label rule on the pose stage's keypoints instead of the traces")
    s.add_argument("--json", action="store_true", help="print the report as JSON instead of markdown")
    s.add_argument("--live", choices=("media", "realtime"),
                   help="count each clip live, and offline beside it: media = the daemon's loop and live throttles on the "
                        "media clock, no frame dropped (the same on any machine); realtime = played in real time as a camera")
    s.add_argument("--out", type=Path, help="also write eval.md, eval.json and eval.png (the chart) here")

    s = add(sub, "tune", "choose the voting or periodicity settings on annotated clips: the model runs once per clip, "
                         "every candidate is replayed",
             "  homegym tune ../shared/data/clips.csv --split train --config config.yaml\n"
             "  homegym tune ../shared/data/clips.csv --split train --config config.yaml --grid periodicity\n"
             "  homegym tune my_clips.csv --model models/mine --json\n", tune_cmd)
    _manifest_args(s, "only the clips of this split (tune on train; judge on eval with homegym eval)",
                   "config.yaml: everything but the tuned keys")
    s.add_argument("--grid", choices=("voting", "periodicity", "counter", "exercise"), default="voting",
                   help="the config section whose keys are tried (default voting); exercise: each exercise's own "
                        "counter.per_exercise, with the config's figures per exercise")
    s.add_argument("--held-back", action="store_true",
                   help="only the clips the model's training held back from fitting (its validation clips)")
    s.add_argument("--oof", type=Path, help="a keypoint classifier's out-of-fold probabilities (oof.npz beside its model.keras): "
                   "tune on those instead of running the model")
    s.add_argument("--tracks", type=Path, help="with --oof: the keypoints those came from (homegym poses MANIFEST -o DIR), so "
                   "each rep is measured (its range of motion) as the daemon measures it")
    s.add_argument("--top", type=int, default=10, help="candidates shown (default 10)")
    s.add_argument("--json", action="store_true", help="every candidate's figures as JSON instead of markdown")

    s = add(sub, "form-check", "the rep measures against hand-labelled clips: each rep's turn time against the labelled "
                               "turn points, its angle against MediaPipe traces, the share of reps flagged full",
             "  homegym form-check ../shared/data/clips.csv --jobs 2          # every rep clip, both splits (docs/form.md)\n"
             "  homegym form-check ../shared/data/clips.csv --clips austinlhx_pushups vengaza_squats\n", form_check_cmd)
    _manifest_args(s, "only the clips of this split (default: both)", "config.yaml: form.full's thresholds and the rest")
    s.add_argument("--poses", type=Path, help="MediaPipe traces for the angles (default: poses/ beside the manifest)")
    s.add_argument("--clips", nargs="+", help="only these clips (file names without extension)")
    s.add_argument("--jobs", type=int, default=1, help="clips counted at once, one process each (default 1)")
    s.add_argument("--json", action="store_true", help="every clip's and rep's figures as JSON instead of the tables")
    s.add_argument("--out", type=Path, help="also write form.md and form.json here")

    s = add(sub, "pose-parity", "the pose stage against MediaPipe's own Python solution on real clips (found share, landmark error)",
             "  scripts/pose_reference_venv.sh /tmp/mp\n"
             "  homegym pose-parity ../shared/data/clips.csv --reference-python /tmp/mp/bin/python\n"
             "  homegym pose-parity ../shared/data/clips.csv --reference-python /tmp/mp/bin/python --clips austinlhx_pushups\n",
             pose_parity_cmd)
    s.add_argument("manifest", type=Path, help="a clip manifest in the format of ../shared/data/clips.csv")
    s.add_argument("--reference-python", type=Path, required=True, help="the Python of a venv with mediapipe 0.10.14 "
                   "(scripts/pose_reference_venv.sh)")
    s.add_argument("--clips", nargs="+", help="only these clips (file names without extension)")
    s.add_argument("--limit", type=int, help="only the first N clips")
    s.add_argument("--pose-model", choices=("lite", "full", "heavy"), help="the landmark model of both sides (MediaPipe's "
                   "model_complexity 0, 1, 2; default: the config's pose.model)")
    s.add_argument("--stride", type=int, default=1, help="both sides see every N-th frame only (heavy on a small box)")
    s.add_argument("--same-canvas", action="store_true", help="also run MediaPipe on the stage's own square canvas and "
                   "report its error against itself on the frames: the metric's floor on each clip")
    s.add_argument("--config", type=Path, help="config.yaml: its pose section (default: built-in defaults)")
    s.add_argument("-o", "--out", type=Path, help="also write the table to this file")

    s = add(sub, "bench", "measure the model, the pipeline, the seed's Keras loop, live CPU and rep latency in one run",
             "  homegym bench --short                                   # a few seconds per figure (CI)\n"
             "  homegym bench --models runs/ir/fp32 runs/ir/int8 --keras runs/train/model.keras --json bench.json\n",
             bench_cmd)
    s.add_argument("--model", type=Path, help="the IR the pipeline figures use (default: model.path, else the shipped model)")
    s.add_argument("--models", type=Path, nargs="+", help="more IRs for the model figures (other precisions)")
    s.add_argument("--config", type=Path, help="config.yaml (voting, counting, infer requests; default: built-in defaults)")
    s.add_argument("--clip", type=Path, help="the clip (default: a rendered 30 fps 640x480 push-up clip)")
    s.add_argument("--keras", type=Path, help="the Keras model for the seed's figures (default: the same architecture, untrained)")
    s.add_argument("--device", nargs="+", help="devices for the model figures (default: every one present)")
    s.add_argument("--short", action="store_true", help="a few seconds per figure instead of the full run")
    s.add_argument("--reference-python", type=Path, help="a Python with mediapipe 0.10.14 for the pose stage's anchor "
                   "(scripts/pose_reference_venv.sh; default: this one, where mediapipe is importable, else skipped)")
    s.add_argument("--pose-only", action="store_true", help="only the pose stage's figures")
    s.add_argument("--baseline", metavar="GIT_REV", help="also run live with the default model as git holds it at GIT_REV, "
                   "interleaved with the model of now (3 rounds each): the ratio of their CPU")
    s.add_argument("--json", type=Path, help="also write the figures as JSON here")
