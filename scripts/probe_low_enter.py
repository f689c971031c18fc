"""Does a lower phase-entry threshold undo a model's `neither` bias on new people?

A model that calls a third of the phase frames `neither` on people it never saw (the
background-swap model, README: The default model) rarely lifts a phase's smoothed
probability to ``homegym tune``'s lowest ``enter`` (0.5), so a rep's top or bottom is
never voted. This probe records the model's validation clips once (``tune.held_back``,
the clips that choose; ``evaluate.record_clip``, as the daemon sees them) and replays
tune's voting grid widened downwards (enter 0.3 and 0.4, exit 0.15 and 0.2), printing
the best setting of the widened grid, of tune's own grid, and at each ``enter``.

    python scripts/probe_low_enter.py ../shared/data/clips.csv --model runs/bgswap/ir --config config.yaml
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from homegym import evaluate, tune
from homegym.daemon import config as C

WIDENED = dict(tune.GRID, enter=(0.3, 0.4) + tune.GRID["enter"], exit=(0.15, 0.2) + tune.GRID["exit"])


def _line(c: tune.Candidate) -> str:
    r = c.report
    return (f"{', '.join(f'{k} {v:g}' for k, v in c.values.items())}: MAE {r.mae:.3f}, OBO {r.obo:.1%}, "
            f"false reps/other clip {r.false_reps_per_other_clip or 0:.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("manifest", type=Path)
    ap.add_argument("--model", type=Path, required=True, help="the IR (its train_report.json beside it names the validation clips)")
    ap.add_argument("--config", type=Path, help="config.yaml: everything but the voting grid's keys")
    a = ap.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    cfg = C.load(a.config)
    rows = tune.held_back(evaluate.rows_of(a.manifest, "train"), cfg, a.model)
    recordings = [(row, evaluate.record_clip(row, cfg, a.model)) for row in rows]
    base = tune.score(recordings, cfg)
    print(f"{a.model}: {len(rows)} validation clips; the config as given: MAE {base.mae:.3f}, OBO {base.obo:.1%}")
    ranked = tune.ranked_grid(recordings, cfg, "voting", WIDENED)
    own = [c for c in ranked if c.values["enter"] in tune.GRID["enter"] and c.values["exit"] in tune.GRID["exit"]]
    print("best of the widened grid:", _line(ranked[0]))
    print("best of tune's grid:     ", _line(own[0]))
    for enter in WIDENED["enter"]:
        print(f"best at enter {enter:g}:       ", _line(next(c for c in ranked if c.values["enter"] == enter)))


if __name__ == "__main__":
    main()
