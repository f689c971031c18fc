"""Would a head on centred features help the shipped model? Measured on its own fine-tuned features.

Every clip of a manifest goes through the counting pipeline once with the shipped model
(``homegym.evaluate.record_clip``: the pooled features and probabilities of each inferred
frame, as the daemon sees them). A logistic-regression head is then fitted on the
features of the clips the model itself was fitted on (its train report's ``train``
part), each frame's features minus their mean over the stream's last S seconds
(``--centre``; alone, or beside the raw features), and optionally averaged with the
shipped head's probabilities (``--blend``). Each head's probabilities are counted by
``replay`` with the shipped config, on the clips the model's training held back
(which choose) and on the ``eval`` clips (which report). Needs scikit-learn (the train
extra brings it with NNCF); about 4 min on 2 cores.

    python scripts/probe_centred_head.py ../shared/data/clips.csv --centre 3 --blend 0 0.5
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from probe_framing import centred


def fit_head(fitted: list[dict], inputs, n_labels: int, C: float):
    """A balanced logistic-regression head on the fitted clips' frames whose label the model has
    (``truth`` in range), scaled first; returns a clip's probabilities over all ``n_labels`` (0 for a
    label no fitted frame had). ``inputs`` maps a clip to its per-frame features."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    known = [(c["truth"] >= 0) & (c["truth"] < n_labels) for c in fitted]
    x = np.concatenate([inputs(c)[k] for c, k in zip(fitted, known)])
    y = np.concatenate([c["truth"][k] for c, k in zip(fitted, known)])
    scaler = StandardScaler().fit(x)
    head = LogisticRegression(C=C, max_iter=3000, class_weight="balanced").fit(scaler.transform(x), y)

    def probs(c: dict) -> np.ndarray:
        p = np.zeros((len(c["t"]), n_labels))
        p[:, head.classes_] = head.predict_proba(scaler.transform(inputs(c)))
        return p
    return probs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("manifest", type=Path)
    ap.add_argument("--config", type=Path, default=Path(__file__).parents[1] / "config.yaml")
    ap.add_argument("--centre", nargs="*", type=float, default=[3.0], help="seconds of trailing mean to subtract")
    ap.add_argument("--blend", nargs="*", type=float, default=[0.0, 0.5],
                    help="weight of the shipped head's probabilities in the average (0: the new head alone)")
    ap.add_argument("--C", type=float, default=1e-4, help="inverse L2 strength of the head")
    a = ap.parse_args()

    from homegym import manifest
    from homegym.daemon.config import load
    from homegym.daemon.inference import DEFAULT_MODEL_DIR
    from homegym.daemon.pipeline import replay
    from homegym.evaluate import ClipResult, frame_truth, record_clip, summarise

    cfg = load(a.config)
    split = json.loads((DEFAULT_MODEL_DIR / "train_report.json").read_text())["split"]["clips"]
    poses = a.manifest.parent / "poses"
    clips = []
    for row in manifest.read(a.manifest):
        rec = record_clip(row, cfg, None)
        ids = np.array([f[0] for f in rec.frames])
        truth = frame_truth(row, rec, poses if poses.is_dir() else None)
        truth = np.full(len(ids), -1) if truth is None else truth
        part = "eval" if row.split == "eval" else "held back" if row.path.stem in split["val"] else \
            "fitted" if row.path.stem in split["train"] else None
        clips.append(dict(row=row, part=part, ids=ids, t=np.array([f[1] for f in rec.frames]), truth=truth,
                          probs=np.stack([f[2] for f in rec.frames]), feats=np.stack([f[3] for f in rec.frames])))
    labels = rec.labels

    def measure(part: str, probs_of) -> str:
        """The part's clips counted with the given probabilities, summed up as ``homegym eval`` sums them."""
        results = []
        for c in (c for c in clips if c["part"] == part):
            p = probs_of(c)
            counted = replay(labels, cfg, [(int(i), float(t), p[j], c["feats"][j])
                                           for j, (i, t) in enumerate(zip(c["ids"], c["t"]))]).total
            k = c["truth"] >= 0
            row = c["row"]
            results.append(ClipResult(row.path.name, row.exercise, row.reps or 0, counted, {}, len(p),
                                      float((p[k].argmax(1) == c["truth"][k]).mean()) if k.any() else None, int(k.sum())))
        r = summarise(results)
        false = float("nan") if r.false_reps_per_other_clip is None else r.false_reps_per_other_clip
        return f"{part}: frame acc {r.frame_acc:.1%}, MAE {r.mae:.3f}, OBO {r.obo:.0%}, false reps {false:.2f}"

    fitted = [c for c in clips if c["part"] == "fitted"]
    shipped = lambda c: c["probs"]  # noqa: E731
    print("shipped head |", " | ".join(measure(p, shipped) for p in ("held back", "eval")), flush=True)
    for seconds in a.centre:
        for beside in (False, True):
            def inputs(c, seconds=seconds, beside=beside):
                x = centred(c["feats"], c["t"], seconds)
                return np.hstack([x, c["feats"]]) if beside else x

            head = fit_head(fitted, inputs, len(labels), a.C)
            for blend in a.blend:
                def probs_of(c, head=head, blend=blend):
                    return (1 - blend) * head(c) + blend * c["probs"]

                name = f"centred {seconds:g} s{' + raw' if beside else ''}, shipped weight {blend:g}"
                print(name, "|", " | ".join(measure(p, probs_of) for p in ("held back", "eval")), flush=True)


if __name__ == "__main__":
    main()
