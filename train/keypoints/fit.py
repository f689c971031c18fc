"""``homegym train --kind keypoints``: the keypoint classifier, cross-validated by source, then fitted on all of it.

Every clip of the train split is predicted once by a model that never saw its source
(``folds`` folds of whole sources): those out-of-fold probabilities are the honest figures
and what ``homegym tune --oof`` chooses the voting on. The shipped model is then fitted on
every training clip with the same settings.
"""

from __future__ import annotations

import logging
import os
import platform
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from homegym import __version__
from homegym.core import keypoint_features as kf
from homegym.core import manifest
from homegym.core.errors import UserError

from .. import keras_import, report
from . import model as M
from .data import KeypointClip, load
from .settings import KeypointSettings

log = logging.getLogger(__name__)
KIND = "keypoints"
TRAIN_SPLITS = ("train", "")  # a manifest without a split column trains on every clip


def _plain(v: Any) -> Any:
    """A setting as JSON has it: paths as strings, in lists too."""
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    return str(v) if isinstance(v, Path) else v


def folds_of(clips: list[KeypointClip], k: int, seed: int) -> dict[str, int]:
    """Source -> fold: whole sources, shuffled by ``seed``, each to the fold with the fewest frames so far."""
    frames: dict[str, int] = {}
    for c in clips:
        frames[c.group] = frames.get(c.group, 0) + len(c.y)
    groups = sorted(frames)
    np.random.default_rng(seed).shuffle(groups)
    load_ = [0] * k
    out = {}
    for g in sorted(groups, key=lambda g: -frames[g]):
        f = int(np.argmin(load_))
        out[g] = f
        load_[f] += frames[g]
    return out


def _xy(clips: list[KeypointClip]) -> tuple[np.ndarray, np.ndarray]:
    xs = [x[c.y >= 0] for c in clips for x in [c.x, *c.x_augmented]]
    ys = [c.y[c.y >= 0] for c in clips for _ in range(1 + len(c.x_augmented))]
    return np.concatenate(xs).astype(np.float32), np.concatenate(ys).astype(np.int64)


def fit(clips: list[KeypointClip], s: KeypointSettings, seed: int):
    """``s.ensemble`` models fitted on ``clips`` from seeds ``seed``, ``seed + 1``, ..., averaged into one; returns it
    and the first one's history."""
    x, y = _xy(clips)
    fitted = [_fit_one(x, y, s, seed + i) for i in range(s.ensemble)]
    return M.average([m for m, _ in fitted]), fitted[0][1]


def _fit_one(x: np.ndarray, y: np.ndarray, s: KeypointSettings, seed: int):
    keras = keras_import.keras()
    keras.utils.set_random_seed(seed)
    labels = s.labels
    k = len(labels)
    counts = np.bincount(y, minlength=k).astype(float)
    missing = [labels[i] for i in range(k) if not counts[i]]
    if missing:
        raise UserError(f"no training frames for label(s) {missing}: add clips with them")
    weights = counts.sum() / (k * counts)
    model = M.build(labels, x.mean(0), x.var(0), s.hidden, s.dropout, s.l2)
    model.compile(optimizer=keras.optimizers.Adam(s.lr), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    h = model.fit(x, y, epochs=s.epochs, batch_size=s.batch, class_weight={i: float(w) for i, w in enumerate(weights)},
                  shuffle=True, verbose=0)
    return model, {k_: [round(float(v), 5) for v in vals] for k_, vals in h.history.items()}


def predict(model, clip: KeypointClip, spec: kf.FeatureSpec, labels: tuple[str, ...]) -> np.ndarray:
    """The probabilities the daemon will see: the model's, through the push-up gate (``keypoint_features.gate``)."""
    return kf.gate(model.predict(clip.x, batch_size=1024, verbose=0), clip.x, labels, spec)


def run(s: KeypointSettings) -> dict:
    s.check()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    keras_import.keras()  # a missing train extra fails here, before minutes of reading keypoints
    t0 = time.time()
    spec = kf.FeatureSpec(version=s.features, pushup_gate=s.pushup_gate, upright_gate=s.upright_gate)
    clips: list[KeypointClip] = []
    for path in s.manifests:
        rows = [r for r in manifest.read(path) if r.split in TRAIN_SPLITS]
        if not rows:
            raise UserError(f"{path}: no clips in the train split")
        clips += load(rows, s.tracks, s.label_poses, spec, s.postures, s.mirror, s.views, s.seed + len(clips), s.exercises)
    names = [c.name for c in clips]
    if len(set(names)) != len(names):
        raise UserError("two clips of the manifests share a name: their keypoint files would be one (rename one)")
    s.out.mkdir(parents=True, exist_ok=True)
    labels = s.labels
    rep: dict = {"kind": KIND, "homegym_version": __version__, "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                 "machine": {"platform": platform.platform(), "processor": platform.processor() or platform.machine(),
                             "cpus": os.cpu_count()},
                 "labels": list(labels), "features": spec.to_dict(),
                 "settings": {k: _plain(v) for k, v in asdict(s).items()},
                 "data": {"manifests": [str(m) for m in s.manifests], "tracks": [str(t) for t in s.tracks],
                          "clips": {c.name: {"group": c.group, "exercise": c.exercise, "frames": int(len(c.y)),
                                             "labelled": int((c.y >= 0).sum())} for c in clips}}}
    if s.folds:
        fold = folds_of(clips, s.folds, s.seed)
        oof: dict[str, np.ndarray] = {}
        for f in range(s.folds):
            held = [c for c in clips if fold[c.group] == f]
            model, _ = fit([c for c in clips if fold[c.group] != f], s, s.seed + 100 * f)
            for c in held:
                oof[c.name] = predict(model, c, spec, labels)
            log.info("fold %d/%d: %d clips held out", f + 1, s.folds, len(held))
        y = np.concatenate([c.y for c in clips])
        p = np.concatenate([oof[c.name].argmax(1) for c in clips])
        y_rule = np.concatenate([c.y_rule for c in clips])
        rule_metrics = report.metrics(y_rule[y_rule >= 0], p[y_rule >= 0], labels)
        rep["cross_validation"] = {
            "folds": s.folds, "by": "source", "fold_of_source": fold,
            "per_clip": {c.name: round(float((oof[c.name].argmax(1) == c.y)[c.y >= 0].mean()), 4) if (c.y >= 0).any() else None
                         for c in clips}}
        oof_metrics = report.metrics(y[y >= 0], p[y >= 0], labels)
        arrays: dict[str, Any] = {f"{c.name}/{k}": v for c in clips for k, v in (("frame", c.frame), ("t", c.t), ("probs", oof[c.name]))}
        np.savez_compressed(s.out / "oof.npz", labels=np.array(labels), **arrays)
        log.info("out-of-fold frame accuracy %.1f %% (%.1f %% by label --from-reps's rule)", 100 * oof_metrics["accuracy"],
                 100 * rule_metrics["accuracy"])
    model, history = fit(clips, s, s.seed)
    model.save(s.out / "model.keras")
    y = np.concatenate([c.y for c in clips])
    p = np.concatenate([predict(model, c, spec, labels).argmax(1) for c in clips])
    rep["evaluation"] = {"train": report.metrics(y[y >= 0], p[y >= 0], labels)}
    if s.folds:
        rep["evaluation"]["out_of_fold"] = oof_metrics
        rep["evaluation"]["out_of_fold_by_rule"] = rule_metrics
    rep["history"] = history
    rep["model"] = {"file": "model.keras", "input": f"{spec.width} keypoint features ({spec.version})",
                    "hidden": list(s.hidden), "params": int(model.count_params())}
    rep["duration_s"] = round(time.time() - t0, 1)
    path = report.write(s.out, rep)
    log.info("wrote %s and %s", s.out / "model.keras", path)
    return rep
