"""How fast does accuracy on new people grow with the number of people trained on? A learning curve by source.

Every lever measured for the default model (crops, centring, pose targets, background
swap, set gates) ran into the same wall: 13 training sources, and a model that learns
the people and rooms it was shown. This probe puts a number on that wall. On the frozen
ImageNet base's recordings (as ``probe_crossfit``: a base that never saw these people),
a head is fitted on the train clips of ``n`` sources drawn at random and judged on
sources it never saw:

- out of fold on the train split: the 13 sources in ``--folds`` folds (as probe_crossfit);
  for each fold, ``--draws`` random sets of ``n`` sources from the other folds are fitted and
  that fold predicted, so each draw gives out-of-fold probabilities for every train clip.
  Only sources with labelled frames are drawn (12 of the 13: one source's only clip has no
  rep marks), so "all" out of fold is the 9-10 such sources outside the fold;
- on the eval clips (reports only): ``n`` of all 12 such train sources, the same number of draws.

For each ``n`` (``--sizes``, and all the sources there are) it prints frame accuracy
(mean, lowest and highest draw) and counting (MAE, OBO, false reps) with the shipped
config.yaml's voting and periodicity, the same for every ``n`` (tuning it for each would
mix the curve with the grids' noise), for a head on the raw features and one on the
features centred on their trailing mean (the biggest per-frame lever so far). Last, a line
fitted to frame accuracy against log2(n), out of fold and on the eval clips apart, says how
many sources a head of this kind would need for the default-model issue's 92 %: an
extrapolation, read as an order of magnitude.

Needs scikit-learn (the train extra brings it); about 9 min on 2 cores after recording.

    python scripts/probe_sources.py ../shared/data/clips.csv --model runs/inet_ir --recordings runs/inet_rec.pkl
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from probe_centred_head import fit_head
from probe_crossfit import frame_acc, recorded, recorded_clips
from probe_framing import centred

GOAL = 0.92  # the default-model issue's frame accuracy


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("manifest", type=Path)
    ap.add_argument("--model", type=Path, required=True, help="IR whose pooled features the heads read")
    ap.add_argument("--config", type=Path, default=Path(__file__).parents[1] / "config.yaml")
    ap.add_argument("--recordings", type=Path, help="pickle of the recorded clips: read if it exists, else written")
    ap.add_argument("--sizes", nargs="*", type=int, default=[1, 2, 4, 7], help="numbers of training sources (all of them is added)")
    ap.add_argument("--draws", type=int, default=5, help="random source sets per size and fold")
    ap.add_argument("--centre", type=float, default=3.0, help="seconds of trailing mean for the centred head (0: raw only)")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--C", type=float, default=1e-4, help="inverse L2 strength of the heads")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()

    from homegym import tune
    from homegym.daemon.config import load

    cfg = load(a.config)
    clips, _, _ = recorded_clips(a.manifest, a.model, cfg, a.recordings)
    n_labels = len(clips[0]["rec"].labels)
    train = [c for c in clips if c["row"].split == "train"]
    evals = [c for c in clips if c["row"].split == "eval"]
    fold_of = {g: i % a.folds for i, g in enumerate(sorted({c["group"] for c in train}))}  # probe_crossfit's folds
    classes = {g: set() for g in fold_of}
    for c in train:
        classes[c["group"]] |= set(c["truth"][(c["truth"] >= 0) & (c["truth"] < n_labels)].tolist())
    sources = sorted(g for g, k in classes.items() if k)  # a source whose clips hold no labelled frame teaches nothing
    print(f"{len(train)} train clips from {len(fold_of)} sources in {a.folds} folds ({len(sources)} with labelled frames), "
          f"{len(evals)} eval clips", flush=True)

    heads = {"raw": lambda c: c["feats"]}
    if a.centre > 0:
        heads[f"centred {a.centre:g} s"] = lambda c: centred(c["feats"], c["t"], a.centre)

    def draws(pool: list[str], n: int, count: int, rng: np.random.Generator) -> list[list[str]]:
        """``count`` random sets of ``n`` sources of the pool, each with frames of two labels at least
        (a head needs two to be fitted: a set of one squat-only source is drawn again); the whole pool
        where n covers it."""
        if n >= len(pool):
            return [pool] * count
        sets: list[list[str]] = []
        while len(sets) < count:
            chosen = sorted(str(g) for g in rng.choice(pool, n, replace=False))
            if len(set().union(*(classes[g] for g in chosen))) >= 2:
                sets.append(chosen)
        return sets

    def predicted(fitted_sources: list[str], judged: list[dict], inputs) -> list[tuple]:
        head = fit_head([c for c in train if c["group"] in fitted_sources], inputs, n_labels, a.C)
        return [(c, recorded(c, head(c).astype(np.float32))) for c in judged]

    def summary(runs: list[list[tuple]]) -> tuple[float, str]:
        """Mean frame accuracy over the draws, and the line that reports them."""
        accs = [frame_acc(pairs) for pairs in runs]
        counts = [tune.score([r for _, r in pairs], cfg) for pairs in runs]
        false = [r.false_reps_per_other_clip for r in counts if r.false_reps_per_other_clip is not None]
        return float(np.mean(accs)), (
            f"frame acc {np.mean(accs):.1%} ({min(accs):.1%}-{max(accs):.1%}), MAE {np.mean([r.mae for r in counts]):.3f}, "
            f"OBO {np.mean([r.obo for r in counts]):.1%}, false reps {np.mean(false) if false else float('nan'):.2f}")

    def extrapolated(curve: list[tuple[float, float]]) -> str:
        """A line through (log2 sources, frame accuracy), and where it reaches the goal."""
        slope, icpt = np.polyfit(np.log2([n for n, _ in curve]), [acc for _, acc in curve], 1)
        need = 2 ** ((GOAL - icpt) / slope) if slope > 0 else float("inf")
        return f"frame acc = {icpt:.1%} + {slope:.1%} per doubling of sources, {GOAL:.0%} at about {need:,.0f} sources"

    for name, inputs in heads.items():
        oof_curve, ev_curve = [], []
        for n in sorted(set(a.sizes) | {len(sources)}):
            rng = np.random.default_rng(a.seed)
            count = 1 if n >= len(sources) else a.draws  # every fold gives each draw its out-of-fold part
            oof_runs: list[list[tuple]] = [[] for _ in range(count)]
            fitted = []  # sources per fit: a fold's pool holds 9-10, so "all" out of fold is what the pool has
            for k in range(a.folds):
                pool = [g for g in sources if fold_of[g] != k]
                held = [c for c in train if fold_of[c["group"]] == k]
                for run, chosen in zip(oof_runs, draws(pool, n, count, rng)):
                    run += predicted(chosen, held, inputs)
                    fitted.append(len(chosen))
            ev_runs = [predicted(chosen, evals, inputs) for chosen in draws(sources, n, count, rng)]
            oof_acc, oof_line = summary(oof_runs)
            ev_acc, ev_line = summary(ev_runs)
            oof_curve.append((float(np.mean(fitted)), oof_acc))
            ev_curve.append((float(min(n, len(sources))), ev_acc))
            print(f"{name} | {np.mean(fitted):.1f} sources, out of fold ({len(oof_runs)} draws): {oof_line} | "
                  f"{min(n, len(sources))} sources, eval ({len(ev_runs)} draws): {ev_line}", flush=True)
        print(f"{name} | extrapolated, out of fold: {extrapolated(oof_curve)} | eval: {extrapolated(ev_curve)}", flush=True)


if __name__ == "__main__":
    main()
