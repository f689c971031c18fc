"""Choose the framing on the train split only: a linear probe on frozen ImageNet features, cross-validated by source.

For each framing (the whole frame, and motion crops with the given settings), the train
clips of a manifest are decoded as `homegym train` decodes them, MobileNetV2's frozen
ImageNet features are taken once, and a logistic regression is fitted on four fifths of
the sources and scored on the fifth it never saw (5 folds). What wins here is what tells
new people's phases apart without any fine-tuning. Needs the train extra (scikit-learn
comes with NNCF). About 5 min per framing on 2 cores.

    python scripts/probe_framing.py ../shared/data/clips.csv --weights ../shared/data/weights/mobilenet_v2_1.0_no_top_imagenet.weights.h5 \
        --motion '{"min_scale": 0.3, "margin": 0.15}' '{"min_scale": 0.45, "margin": 0.25}'
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("manifest", type=Path)
    ap.add_argument("--weights", required=True, help="MobileNetV2 no-top ImageNet .weights.h5")
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--stride", type=int, default=2)
    ap.add_argument("--motion", nargs="*", default=["{}"], help="motion-crop settings to try, as JSON (default: the defaults)")
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
        clips, labels = dataset.load(sources, a.size, a.stride, TrainSettings([], Path()).cache, framing)  # train's frame cache
        x = np.concatenate([c.frames for c in clips]).astype(np.float32) / 127.5 - 1.0
        y = np.concatenate([c.labels for c in clips])
        groups = np.concatenate([[c.group] * len(c.labels) for c in clips])
        feats = base.predict(x, batch_size=64, verbose=0)
        confusion = np.zeros((len(labels), len(labels)), int)
        for tr, te in GroupKFold(5).split(feats, y, groups):
            scaler = StandardScaler().fit(feats[tr])
            probe = LogisticRegression(C=a.C, max_iter=3000, class_weight="balanced").fit(scaler.transform(feats[tr]), y[tr])
            np.add.at(confusion, (y[te], probe.predict(scaler.transform(feats[te]))), 1)
        recall = confusion.diagonal() / np.maximum(confusion.sum(1), 1)
        print(f"{json.dumps(framing.to_dict())}: unseen-source accuracy {confusion.trace() / confusion.sum():.1%} over {len(y)} frames; "
              + ", ".join(f"{lab} {r:.0%}" for lab, r in zip(labels, recall)), flush=True)


if __name__ == "__main__":
    main()
