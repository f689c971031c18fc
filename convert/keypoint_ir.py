"""The keypoint classifier (``homegym train --kind keypoints``) to an OpenVINO IR, checked against Keras.

In: one frame's features (float32, 1 x width: ``core.keypoint_features``, which the daemon
computes from the pose stage); out: the class probabilities. The features' version and
window go into the IR's runtime info, so the daemon refuses features it would compute
differently. The check runs both models on the features of real training clips (their
keypoint files, where the report's folder still holds them).
"""

from __future__ import annotations

import json
import shutil
import time
import warnings
from pathlib import Path

import numpy as np

from homegym.core import keypoint_features as kf
from homegym.core.errors import UserError
from homegym.core.model_info import KeypointModelInfo, read_model_ir
from homegym.core.pose_track import PoseTrack
from homegym.core.runtime import compile_model, make_core

from . import keras_model
from .run import ParityError, parity_figures

MAX_DIFF = {"fp32": 1e-4, "fp16": 5e-3}  # the largest probability difference against Keras a precision may show
CHECK_CLIPS = 8


def is_keypoint_report(report_path: Path) -> bool:
    try:
        return json.loads(report_path.read_text()).get("kind") == "keypoints"
    except (OSError, ValueError, AttributeError):
        return False


def check_features(report: dict, spec: kf.FeatureSpec, width: int) -> tuple[np.ndarray, str]:
    """Features of real training clips from the report's keypoint folder; where it is gone, rows drawn around zero."""
    from homegym.core.pose_track import track_path
    from homegym.train.keypoints.data import track_features

    tracks = [Path(t) for t in report.get("data", {}).get("tracks", [])]
    clips = list(report.get("data", {}).get("clips", {})) if tracks else []
    rows = []
    for name in clips[:: max(1, len(clips) // CHECK_CLIPS)][:CHECK_CLIPS]:
        path = track_path(tracks, name)
        if path.exists():
            rows.append(track_features(PoseTrack.load(path), spec))
    if rows:
        return np.concatenate(rows).astype(np.float32), f"{sum(len(r) for r in rows)} frames of {len(rows)} training clips"
    return np.random.default_rng(0).normal(size=(512, width)).astype(np.float32), "512 random rows (the training keypoints are gone)"


def run(model_path: Path, out: Path, precision: str = "fp16", report_path: Path | None = None, device: str = "CPU",
        cache_dir: Path | None = None) -> dict:
    import openvino as ov

    if precision not in MAX_DIFF:
        raise UserError(f"a keypoint classifier converts to fp32 or fp16, not {precision}: it takes a few microseconds a frame, "
                        "and int8 would buy nothing but error")
    t0 = time.time()
    kmodel, report = keras_model.load(model_path, report_path, kind="keypoints")
    spec = kf.FeatureSpec.from_dict(report["features"])
    width = int(kmodel.input_shape[-1])
    if width != spec.width:
        raise UserError(f"{model_path}: the model takes {width} features, its report's feature spec {spec.width}")
    labels = tuple(report["labels"])
    info = KeypointModelInfo(labels, spec, width, precision, _provenance(report))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Keras warns about input-structure naming while tracing
        model = ov.convert_model(kmodel)
    model.reshape([1, width])
    model.input(0).get_tensor().set_names({"features"})
    model.output(0).get_tensor().set_names({"probabilities"})
    info.write(model)
    out.mkdir(parents=True, exist_ok=True)
    xml = out / "model.xml"
    ov.save_model(model, str(xml), compress_to_fp16=precision == "fp16")

    saved, saved_info = read_model_ir(xml)  # the check runs on the files as the daemon reads them
    if saved_info != info:
        raise UserError(f"{xml}: the runtime info read back differs from what was written")
    compiled = compile_model(make_core(None), saved, "CPU")
    x, what = check_features(report, spec, width)
    ref = kmodel.predict(x, batch_size=1024, verbose=0)
    got = np.concatenate([compiled(x[i: i + 1])[0] for i in range(len(x))])
    parity = dict(parity_figures(ref, got), on=what)
    t = time.perf_counter()
    compile_model(make_core(cache_dir), str(xml), device)
    bound = MAX_DIFF[precision]
    failures = [f"max |diff| {parity['max_abs_diff']:.2e} over {bound:.0e}"] if parity["max_abs_diff"] > bound else []
    result = {"model": str(model_path), "ir": str(xml), "kind": "keypoints", "labels": list(labels),
              "input": {"features": width, "version": spec.version, "batch": 1, "layout": "float32 N x features"},
              "precision": precision, "device": device, "convert_s": round(time.time() - t0, 2),
              "compile_s": round(time.perf_counter() - t, 3), "reference": "keras", "parity": parity,
              "passed": not failures, "failures": failures}
    (out / "convert_report.json").write_text(json.dumps(result, indent=1) + "\n")
    src_report = Path(report_path) if report_path else Path(model_path).parent / "report.json"
    if src_report.resolve() != (out / "train_report.json").resolve():
        shutil.copyfile(src_report, out / "train_report.json")
    if failures:
        raise ParityError("parity check failed: " + "; ".join(failures) + f" (IR written to {xml})")
    return result


def _provenance(report: dict) -> dict:
    ev = report.get("evaluation", {})
    oof = ev.get("out_of_fold") or {}
    return {"kind": "keypoints", "created": report.get("created"), "clips": len(report.get("data", {}).get("clips", {})),
            "out_of_fold_frame_accuracy": oof.get("accuracy"), "manifests": report.get("data", {}).get("manifests")}


def summary(r: dict) -> str:
    p = r["parity"]
    return "\n".join([
        f"IR: {r['ir']}  (keypoint classifier, {r['precision'].upper()}, {r['input']['features']} features, {r['input']['version']})",
        f"labels: {', '.join(r['labels'])}",
        f"parity vs Keras on {p['on']}: max |diff| {p['max_abs_diff']:.2e}, top-1 agreement {p['top1_agreement']:.2%}",
        f"compiled on {r['device']} in {r['compile_s']:.2f} s",
    ])
