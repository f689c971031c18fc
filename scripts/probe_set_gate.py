"""Does a set-level gate let the swing count? The classifier says which exercise and when a set runs, cross-fitted by source.

The periodicity fusion shipped today needs the per-frame classifier to agree with the
swing frame by frame, and on new people it rarely does; loosened (``min_agreement``
0.5) the swing counts reps well, and counts curls, presses and lunges as squats too
(probe_crossfit.py). This probe asks whether the *exercise*, decided over a few
seconds instead of frame by frame, is easier to learn than the phase: a gate gives
each frame P(no set), P(push-up set), P(squat set) from a trailing window
(``--gate-window`` seconds) of what a daemon has at that frame, either the pooled
features' mean and spread (``--gate features``: what the scene is, and what moves in
it; a logistic regression) or the dense optical flow's summary on a small grey copy of
the frames (``--gate motion``: how much moves, how vertically, over how wide and tall
a region, where; a logistic regression and gradient-boosted trees). Its probabilities
replace the classifier's phase mass and exercise (the classifier keeps only its split
between up and down), and periodicity, voting and counting run as ``homegym count``
runs them.

Everything is judged on people the heads never saw: the clips are recorded once
with ``--model`` (give it the frozen ImageNet base, as probe_crossfit.py does, and
the same ``--recordings`` pickle), the per-frame head (raw features) and each gate
are fitted on 4 of 5 folds of the train split's sources and predict the fifth, the
periodicity and voting grids of ``homegym tune`` choose on those out-of-fold counts
(within tune's false-rep bound), and the eval clips are counted by heads fitted on
every train clip with the settings so chosen: they report, never choose.

``--flow FILE`` keeps the clips' flow figures (a pickle; computing them decodes every
clip again, about 5 min). Needs scikit-learn; about 10 min per gate on 2 cores.

    cd scripts && python probe_set_gate.py ../../shared/data/clips.csv --model ../runs/inet_ir \
        --recordings ../runs/inet_rec.pkl --flow ../runs/flow.pkl --gate-window 3 6
"""

from __future__ import annotations

import argparse
import pickle
from pathlib import Path

import numpy as np
from probe_centred_head import fit_head
from probe_crossfit import accuracy, figures, recorded, recorded_clips
from probe_framing import trailing_mean

SETS = ("none", "pushup", "squat")  # the gate's classes
FLOW_WIDTH = 64  # pixels across of the grey frames the motion gate's optical flow runs on
FLOW_COLUMNS = 9 + 16  # flow_stats' figures of a frame


def flow_stats(path: Path, ids: np.ndarray) -> np.ndarray:
    """Per recorded frame (``ids``: every n-th from the first, as the pipeline samples a clip), the
    dense optical flow from the previous recorded frame on a ``FLOW_WIDTH`` grey copy, summed up as:
    motion energy, energy-weighted |vx| and |vy|, signed vy, the moving region's centroid and second
    moments (x, y, xy; in frame heights), and its energy on a 4x4 grid of the frame."""
    import cv2

    from homegym.video import downscale, iter_frames

    stride = int(ids[1] - ids[0]) if len(ids) > 1 else 1
    out, prev = {}, None
    for i, frame in iter_frames(path, stride):
        if i > ids.max():
            break
        if prev is None:
            h = max(8, round(FLOW_WIDTH * frame.shape[0] / frame.shape[1]))
            ys, xs = np.mgrid[0:h, 0:FLOW_WIDTH] / h
        grey = cv2.cvtColor(downscale(frame, (FLOW_WIDTH, h)), cv2.COLOR_BGR2GRAY)
        row = np.zeros(FLOW_COLUMNS, np.float32)
        if prev is not None:
            flow = cv2.calcOpticalFlowFarneback(prev, grey, None, 0.5, 2, 9, 2, 5, 1.1, 0)
            mag = np.hypot(flow[..., 0], flow[..., 1])
            w = np.maximum(mag - np.median(mag) - 0.05, 0)
            e = float(w.sum())
            if e > 0:
                cx, cy = float((w * xs).sum() / e), float((w * ys).sum() / e)
                grid = cv2.resize(w, (4, 4), interpolation=cv2.INTER_AREA).ravel()
                row[:] = [e / w.size, float((w * np.abs(flow[..., 0])).sum() / e), float((w * np.abs(flow[..., 1])).sum() / e),
                          float((w * flow[..., 1]).sum() / e), cx, cy, float((w * (xs - cx) ** 2).sum() / e),
                          float((w * (ys - cy) ** 2).sum() / e), float((w * (xs - cx) * (ys - cy)).sum() / e),
                          *(grid / max(grid.sum(), 1e-9))]
        out[i], prev = row, grey
    return np.stack([out.get(int(j), np.zeros(FLOW_COLUMNS, np.float32)) for j in ids])


def motion_window(flow: np.ndarray, seconds: np.ndarray, window: float) -> np.ndarray:
    """Each frame's motion descriptor over the last ``window`` seconds: log energy, the share of
    vertical motion, the moving region's spread across and down (and its log aspect), how much the
    signed vertical flow swings, and the energy-weighted 4x4 grid."""
    first = np.searchsorted(seconds, seconds - window, side="right")
    rows = []
    for j in range(len(flow)):
        f = flow[first[j]:j + 1]
        e = f[:, 0]
        tot = float(e.sum()) + 1e-9
        wm = (e[:, None] * f).sum(0) / tot
        # Pooled second moments: each frame's own spread plus its centroid's spread about the pooled one.
        vx = wm[6] + float((e * (f[:, 4] - wm[4]) ** 2).sum() / tot)
        vy = wm[7] + float((e * (f[:, 5] - wm[5]) ** 2).sum() / tot)
        rows.append([np.log(e.mean() + 1e-4), wm[2] / (wm[1] + wm[2] + 1e-9), np.sqrt(vx), np.sqrt(vy),
                     0.5 * np.log((vy + 1e-6) / (vx + 1e-6)), float(f[:, 3].std()), float(np.abs(f[:, 3]).mean()),
                     wm[5], *wm[9:]])
    return np.asarray(rows, np.float32)


def trailing_stats(feats: np.ndarray, seconds: np.ndarray, window: float) -> np.ndarray:
    """Each frame's mean and standard deviation of the features over the last ``window`` seconds
    up to and including it (what a daemon has at that frame), side by side."""
    wide = feats.astype(np.float64)  # the variance is a difference of two sums: float32 would cancel it away
    mean = trailing_mean(wide, seconds, window)
    var = np.maximum(trailing_mean(np.square(wide), seconds, window) - mean ** 2, 0.0)
    return np.hstack([mean, np.sqrt(var)]).astype(np.float32)


def fit_boosted(fitted: list[dict], inputs, n_labels: int, C: float):
    """``fit_head``'s contract with gradient-boosted trees (``C`` unused): the motion descriptor's few
    inputs relate to the set non-linearly (a wide region moving up and down is a squat standing, a
    push-up lying)."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    known = [(c["truth"] >= 0) & (c["truth"] < n_labels) for c in fitted]
    x = np.concatenate([inputs(c)[k] for c, k in zip(fitted, known)])
    y = np.concatenate([c["truth"][k] for c, k in zip(fitted, known)])
    model = HistGradientBoostingClassifier(max_iter=200, learning_rate=0.05, class_weight="balanced", random_state=0).fit(x, y)

    def probs(c: dict) -> np.ndarray:
        p = np.zeros((len(c["t"]), n_labels))
        p[:, model.classes_] = model.predict_proba(inputs(c))
        return p
    return probs


def set_truth(c: dict, labels: tuple[str, ...]) -> np.ndarray:
    """The gate's target of each frame: the clip's exercise on its labelled phase frames, ``none`` on
    every labelled frame of a clip of other movements, -1 (not fitted, not scored) elsewhere."""
    out = np.full(len(c["t"]), -1)
    known = (c["truth"] >= 0) & (c["truth"] < len(labels))
    if c["row"].exercise in SETS:
        phase = known & np.array([labels[k] != "neither" if 0 <= k < len(labels) else False for k in c["truth"]])
        out[phase] = SETS.index(c["row"].exercise)
    else:
        out[known] = 0
    return out


def gated(labels: tuple[str, ...], probs: np.ndarray, gate: np.ndarray) -> np.ndarray:
    """The classifier's probabilities with its phase mass and exercise replaced by the gate's: each
    exercise's up and down get the gate's share for that exercise, split as the classifier splits its
    own up and down mass (all exercises summed); ``neither`` gets the gate's ``none``."""
    from homegym.labels import parse_label

    phases = [parse_label(lab).phase for lab in labels]
    ups = [i for i, ph in enumerate(phases) if ph == "up"]
    downs = [i for i, ph in enumerate(phases) if ph == "down"]
    up, down = probs[:, ups].sum(1), probs[:, downs].sum(1)
    share_up = np.where(up + down > 0, up / np.maximum(up + down, 1e-9), 0.5)
    out = np.zeros_like(probs)
    out[:, labels.index("neither")] = gate[:, 0]
    for k, ex in enumerate(SETS[1:], 1):
        out[:, labels.index(f"{ex}_up")] = gate[:, k] * share_up
        out[:, labels.index(f"{ex}_down")] = gate[:, k] * (1 - share_up)
    return out.astype(np.float32)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("manifest", type=Path)
    ap.add_argument("--model", type=Path, required=True, help="IR whose pooled features the heads read")
    ap.add_argument("--config", type=Path, default=Path(__file__).parents[1] / "config.yaml")
    ap.add_argument("--gate-window", nargs="*", type=float, default=[3.0, 6.0], help="seconds of the gate's trailing window")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--C", type=float, default=1e-4, help="inverse L2 strength of the heads")
    ap.add_argument("--recordings", type=Path, help="pickle of the recorded clips: read if it exists, else written")
    ap.add_argument("--gate", nargs="*", choices=("features", "motion"), default=["features", "motion"],
                    help="what the gate reads: the pooled features' trailing mean and spread, or the optical flow's")
    ap.add_argument("--gate-C", type=float, default=1.0, help="inverse L2 strength of the motion gate (few inputs)")
    ap.add_argument("--no-count", action="store_true", help="the gates' set accuracy only, no counting grids")
    ap.add_argument("--flow", type=Path, help="pickle of the clips' flow statistics: read if it exists, else written")
    a = ap.parse_args()

    from homegym import tune
    from homegym.daemon.config import load

    cfg = load(a.config)
    clips, _, val = recorded_clips(a.manifest, a.model, cfg, a.recordings)
    labels = clips[0]["rec"].labels
    train = [c for c in clips if c["row"].split == "train"]
    evals = [c for c in clips if c["row"].split == "eval"]
    fold_of = {g: i % a.folds for i, g in enumerate(sorted({c["group"] for c in train}))}
    for c in clips:
        c["set"] = set_truth(c, labels)
    print(f"{len(train)} train clips from {len(fold_of)} sources in {a.folds} folds, {len(evals)} eval clips", flush=True)

    def cross_fit(inputs, key: str, n: int, C: float = a.C, fitter=fit_head) -> tuple[dict[int, np.ndarray], dict[int, np.ndarray]]:
        """Out-of-fold probabilities of every train clip, and those of every eval clip from a head
        fitted on all train clips, keyed by id(clip)."""
        oof = {}
        for k in range(a.folds):
            fitted = [dict(c, truth=c[key]) for c in train if fold_of[c["group"]] != k]
            head = fitter(fitted, inputs, n, C)
            oof |= {id(c): head(c) for c in train if fold_of[c["group"]] == k}
        head = fitter([dict(c, truth=c[key]) for c in train], inputs, n, C)
        return oof, {id(c): head(c) for c in evals}

    def judge(name: str, probs: dict[int, np.ndarray]) -> None:
        oof = [recorded(c, probs[id(c)]) for c in train]
        tuned = cfg
        for section in ("periodicity", "voting"):
            best = tune.ranked_grid(oof, tuned, section)[0]
            tuned = tune.with_values(tuned, section, best.values)
            print(f"{name}: {section} chosen out of fold: {best.values}", flush=True)
        on_val = [r for r in oof if r[0].name in val]
        ev = [recorded(c, probs[id(c)]) for c in evals]
        for part, recs in (("train, out of fold (chooses)", oof), ("the shipped model's validation clips", on_val),
                           ("eval (reports)", ev)):
            print(f"{name} | {part} | shipped config: {figures(tune.score(recs, cfg))} | tuned: {figures(tune.score(recs, tuned))}",
                  flush=True)

    phase_oof, phase_ev = cross_fit(lambda c: c["feats"], "truth", len(labels))
    frame = phase_oof | phase_ev
    print(f"per-frame head (raw features): frame acc out of fold {accuracy([(c, frame[id(c)]) for c in train], 'truth'):.1%}, "
          f"eval {accuracy([(c, frame[id(c)]) for c in evals], 'truth'):.1%}", flush=True)
    if not a.no_count:
        judge("per-frame head alone", frame)
    if "motion" in a.gate:
        if a.flow and a.flow.exists():
            flows = pickle.loads(a.flow.read_bytes())
        else:
            flows = {c["row"].name: flow_stats(c["row"].path, np.array([f[0] for f in c["rec"].frames])) for c in clips}
            if a.flow:
                a.flow.write_bytes(pickle.dumps(flows))
        for c in clips:
            c["flow"] = flows[c["row"].name]
    gates = {}
    for w in a.gate_window:
        if "features" in a.gate:
            gates[f"features {w:g} s"] = (lambda c, w=w: trailing_stats(c["feats"], c["t"], w), a.C, fit_head)
        if "motion" in a.gate:
            gates[f"motion {w:g} s"] = (lambda c, w=w: motion_window(c["flow"], c["t"], w), a.gate_C, fit_head)
            gates[f"motion {w:g} s, boosted trees"] = (lambda c, w=w: motion_window(c["flow"], c["t"], w), a.gate_C, fit_boosted)
    for name, (inputs, C, fitter) in gates.items():
        gate_oof, gate_ev = cross_fit(inputs, "set", len(SETS), C, fitter)
        gate = gate_oof | gate_ev
        for part, cs in (("out of fold", train), ("eval", evals)):
            others = [c for c in cs if c["row"].exercise not in SETS]
            none_share = np.mean([float((gate[id(c)].argmax(1) == 0).mean()) for c in others]) if others else float("nan")
            print(f"gate on {name} | {part}: set accuracy {accuracy([(c, gate[id(c)]) for c in cs], 'set'):.1%}, "
                  f"frames of other-movement clips called no set {none_share:.1%}", flush=True)
        if not a.no_count:
            judge(f"gate on {name}", {i: gated(labels, frame[i], gate[i]) for i in frame})

if __name__ == "__main__":
    main()
