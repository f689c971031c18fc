"""Does a head on centred features count new people better, once counting is tuned for it? Cross-fitted by source.

The two probes before this one left the question open: centring lifts frame accuracy on
people a head never saw, but counting was tuned to the shipped head, and the only clips
allowed to judge a new head were 5 clips of one source. Here every judgement comes from
people the head never saw, on the whole train split:

- every clip of the manifest goes through the counting pipeline once with ``--model``
  (``evaluate.record_clip``: each inferred frame's probabilities and pooled features, as
  the daemon sees them). Give it an IR whose base never saw these people (the frozen
  ImageNet base with any head: only its features are used), or the cross-fitting is
  flattered by a base fitted on the same sources;
- each head (a logistic regression on the raw features, on the features minus their mean
  over the stream's last S seconds, or on both) is fitted on the train clips of all
  sources but one fold's (``--folds``, grouped by ``source_repo``) and predicts that fold:
  out-of-fold probabilities for every train clip;
- the periodicity grid, then the voting grid of ``homegym tune`` (``tune.GRIDS``) are
  searched on those out-of-fold counts, so each head gets the counting settings that suit
  it, chosen on the train split only;
- the eval clips are counted with a head fitted on every train clip and its chosen
  settings: they report, never choose;
- the shipped model's validation clips (which neither it nor an out-of-fold head fitted)
  compare the heads with the shipped model and config on the same clips.

``--recordings FILE`` keeps the recorded clips (a pickle) for the next run of the same model.

Needs scikit-learn (the train extra brings it with NNCF); about 10 min per head on 2 cores.

    python scripts/probe_crossfit.py ../shared/data/clips.csv --model runs/inet_ir --centre 3
"""

from __future__ import annotations

import argparse
import json
import pickle
from pathlib import Path

import numpy as np
from probe_centred_head import fit_head
from probe_framing import centred


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("manifest", type=Path)
    ap.add_argument("--model", type=Path, required=True, help="IR whose pooled features the heads read")
    ap.add_argument("--config", type=Path, default=Path(__file__).parents[1] / "config.yaml")
    ap.add_argument("--centre", nargs="*", type=float, default=[3.0], help="seconds of trailing mean to subtract")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--C", type=float, default=1e-4, help="inverse L2 strength of the heads")
    ap.add_argument("--recordings", type=Path, help="pickle of the recorded clips: read if it exists, else written")
    a = ap.parse_args()

    from homegym import tune
    from homegym.daemon.config import load

    cfg = load(a.config)
    clips, shipped_val, val = recorded_clips(a.manifest, a.model, cfg, a.recordings)

    labels = clips[0]["rec"].labels
    train = [c for c in clips if c["row"].split == "train"]
    evals = [c for c in clips if c["row"].split == "eval"]
    fold_of = {g: i % a.folds for i, g in enumerate(sorted({c["group"] for c in train}))}
    print(f"{len(train)} train clips from {len(fold_of)} sources in {a.folds} folds, {len(evals)} eval clips", flush=True)
    print(f"shipped model | its validation clips ({len(shipped_val)}) | shipped config: "
          f"{figures(tune.score(shipped_val, cfg))}", flush=True)

    def fit(fitted: list[dict], inputs):
        head = fit_head(fitted, inputs, len(labels), a.C)
        return lambda c: head(c).astype(np.float32)

    heads = {"raw": lambda c: c["feats"]}
    for s in a.centre:
        heads[f"centred {s:g} s"] = lambda c, s=s: centred(c["feats"], c["t"], s)
        heads[f"centred {s:g} s + raw"] = lambda c, s=s: np.hstack([centred(c["feats"], c["t"], s), c["feats"]])
    for name, inputs in heads.items():
        oof = []
        for k in range(a.folds):
            probs = fit([c for c in train if fold_of[c["group"]] != k], inputs)
            oof += [(c, recorded(c, probs(c))) for c in train if fold_of[c["group"]] == k]
        probs = fit(train, inputs)
        ev = [(c, recorded(c, probs(c))) for c in evals]
        tuned = cfg
        for section in ("periodicity", "voting"):
            best = tune.ranked_grid([r for _, r in oof], tuned, section)[0]
            tuned = tune.with_values(tuned, section, best.values)
            print(f"{name}: {section} chosen out of fold: {best.values}", flush=True)
        on_val = [p for p in oof if p[0]["row"].name in val]
        for part, pairs in (("train, out of fold (chooses)", oof), ("the shipped model's validation clips, out of fold", on_val),
                            ("eval (reports)", ev)):
            recs = [r for _, r in pairs]
            print(f"{name} | {part} | frame acc {frame_acc(pairs):.1%} | shipped config: "
                  f"{figures(tune.score(recs, cfg))} | tuned: {figures(tune.score(recs, tuned))}", flush=True)


def figures(r) -> str:
    """A report's counting figures on one line."""
    false = float("nan") if r.false_reps_per_other_clip is None else r.false_reps_per_other_clip
    return f"MAE {r.mae:.3f}, OBO {r.obo:.1%}, exact {r.exact:.1%}, false reps {false:.2f}"


def recorded(c: dict, p: np.ndarray) -> tuple:
    """The clip's (row, recording) with a head's probabilities in place of the model's."""
    from homegym.evaluate import Recording

    frames = [(fid, t, p[j], feats) for j, (fid, t, _, feats) in enumerate(c["rec"].frames)]
    return c["row"], Recording(c["rec"].summary, c["rec"].labels, frames)


def accuracy(pairs: list[tuple[dict, np.ndarray]], key: str = "truth") -> float:
    """Share of the frames of (clip, probabilities) pairs with a label in range under ``key`` whose top
    probability is that label."""
    right = total = 0
    for c, p in pairs:
        k = (c[key] >= 0) & (c[key] < p.shape[1])
        right += int((p[k].argmax(1) == c[key][k]).sum())
        total += int(k.sum())
    return right / max(total, 1)


def frame_acc(pairs: list[tuple]) -> float:
    """``accuracy`` of (clip, (row, recording)) pairs: the recordings' probabilities against the phase truth."""
    return accuracy([(c, np.stack([f[2] for f in rec.frames])) for c, (_, rec) in pairs])


def recorded_clips(manifest_path: Path, model: Path, cfg, keep: Path | None) -> tuple[list[dict], list, set[str]]:
    """Every train and eval clip of the manifest through the pipeline with ``model`` (row, recording,
    source group, times, pooled features, per-frame truth), the shipped model's validation clips through
    the shipped model, and those clips' names. ``keep``: a pickle read if it exists, else written."""
    from homegym import manifest
    from homegym.daemon.inference import DEFAULT_MODEL_DIR
    from homegym.evaluate import frame_truth, record_clip

    val = set(json.loads((DEFAULT_MODEL_DIR / "train_report.json").read_text())["split"]["clips"]["val"])
    if keep and keep.exists():
        clips, shipped_val = pickle.loads(keep.read_bytes())
        return clips, shipped_val, val
    poses = manifest_path.parent / "poses"
    clips, shipped_val = [], []
    for row in manifest.read(manifest_path):
        if row.split not in ("train", "eval"):
            continue
        rec = record_clip(row, cfg, model)
        truth = frame_truth(row, rec, poses if poses.is_dir() else None)
        clips.append(dict(row=row, rec=rec, group=row.extra.get("source_repo") or row.name,
                          t=np.array([f[1] for f in rec.frames]), feats=np.stack([f[3] for f in rec.frames]),
                          truth=np.full(len(rec.frames), -1) if truth is None else truth))
        if row.name in val:
            shipped_val.append((row, record_clip(row, cfg, None)))
    if keep:
        keep.write_bytes(pickle.dumps((clips, shipped_val)))
    return clips, shipped_val, val


if __name__ == "__main__":
    main()
