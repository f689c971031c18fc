"""Choose the framing and the features' centring on the train split only: a linear probe on frozen ImageNet
features, cross-validated by source.

For each framing (the whole frame, and motion crops with the given settings), the train
clips of a manifest are decoded as `homegym train` decodes them, MobileNetV2's frozen
ImageNet features are taken once, and a logistic regression is fitted on four fifths of
the sources and scored on the fifth it never saw (5 folds). What wins here is what tells
new people's phases apart without any fine-tuning. Needs the train extra (scikit-learn
comes with NNCF). About 5 min per framing on 2 cores.

``--centre S ...`` also tries each frame's features minus their mean over the stream's
last S seconds (every sampled frame, the current one included, as a daemon would keep
it): what stays of the room and the person is their constant part, which the mean takes
away, and what moves is the posture.

    python scripts/probe_framing.py ../shared/data/clips.csv --weights ../shared/data/weights/mobilenet_v2_1.0_no_top_imagenet.weights.h5 \
        --motion '{"min_scale": 0.3, "margin": 0.15}' '{"min_scale": 0.45, "margin": 0.25}' --centre 0 2 3 4 8
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np


def trailing_mean(rows: np.ndarray, seconds: np.ndarray, window: float) -> np.ndarray:
    """Each row's mean over the rows of the last ``window`` seconds up to and including it (what a
    stream has at that frame), summed in the rows' own precision."""
    total = np.vstack([np.zeros((1, rows.shape[1])), np.cumsum(rows, 0)])
    first = np.searchsorted(seconds, seconds - window, side="right")
    last = np.arange(1, len(rows) + 1)
    return (total[last] - total[first]) / (last - first)[:, None]


def centred(feats: np.ndarray, seconds: np.ndarray, window: float) -> np.ndarray:
    """Each row minus the mean of the rows of the last ``window`` seconds up to and including it (0: as is)."""
    if window <= 0:
        return feats
    return feats - trailing_mean(feats, seconds, window)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("manifest", type=Path)
    ap.add_argument("--weights", required=True, help="MobileNetV2 no-top ImageNet .weights.h5")
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--stride", type=int, default=2)
    ap.add_argument("--motion", nargs="*", default=["{}"], help="motion-crop settings to try, as JSON (default: the defaults)")
    ap.add_argument("--centre", nargs="*", type=float, default=[0.0],
                    help="seconds of the stream's trailing feature mean to subtract (0: none; default 0)")
    ap.add_argument("--C", type=float, default=1e-4, help="inverse L2 strength of the probe")
    a = ap.parse_args()

    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold
    from sklearn.preprocessing import StandardScaler

    from homegym import keras_import
    from homegym.framing import Framing
    from homegym.train import dataset
    from homegym.train.fit import TrainSettings

    keras = keras_import.keras()
    base = keras.applications.MobileNetV2(input_shape=(a.size, a.size, 3), include_top=False, pooling="avg", weights=a.weights)
    sources = [s for s in dataset.discover([a.manifest]) if s.split == "train"]
    framings = [Framing()] + [Framing("motion", **json.loads(m)) for m in a.motion]
    for framing in framings:
        clips, labels = dataset.load(sources, a.size, a.stride, TrainSettings([], Path()).cache, framing,  # train's frame cache
                                     unlabelled=True)
        feats = [base.predict(c.frames.astype(np.float32) / 127.5 - 1.0, batch_size=64, verbose=0) for c in clips]
        keep = [c.labels >= 0 for c in clips]
        y = np.concatenate([c.labels[k] for c, k in zip(clips, keep)])
        groups = np.concatenate([[c.group] * int(k.sum()) for c, k in zip(clips, keep)])
        for seconds in a.centre:
            x = np.concatenate([centred(f, c.frame_index / c.fps, seconds)[k] for c, f, k in zip(clips, feats, keep)])
            confusion = np.zeros((len(labels), len(labels)), int)
            for tr, te in GroupKFold(5).split(x, y, groups):
                scaler = StandardScaler().fit(x[tr])
                probe = LogisticRegression(C=a.C, max_iter=3000, class_weight="balanced").fit(scaler.transform(x[tr]), y[tr])
                np.add.at(confusion, (y[te], probe.predict(scaler.transform(x[te]))), 1)
            recall = confusion.diagonal() / np.maximum(confusion.sum(1), 1)
            print(f"{json.dumps(framing.to_dict())}, centred on {seconds:g} s: unseen-source accuracy "
                  f"{confusion.trace() / confusion.sum():.1%} over {len(y)} frames; "
                  + ", ".join(f"{lab} {r:.0%}" for lab, r in zip(labels, recall)), flush=True)


if __name__ == "__main__":
    main()
