"""``homegym tune``: the replay of recorded probabilities counts exactly as the pipeline does."""

from __future__ import annotations

import json
import shutil

import pytest
from support import one_line_error, run_cli

from homegym.measure.evaluate import Report
from homegym.measure.tune import FALSE_REP_BOUND, GRID, PERIODICITY_GRID, Candidate, candidates

FIGURES = ("mae", "obo", "exact", "false_reps_per_other_clip")


def test_candidates_cover_the_grid_with_exit_at_most_enter() -> None:
    c = candidates()
    assert all(x["exit"] <= x["enter"] for x in c)
    assert len(c) == len({tuple(x.values()) for x in c}) == 3 * 3 * 3 * 2 * 2
    assert set(c[0]) == set(GRID)
    p = candidates(PERIODICITY_GRID)
    assert len(p) == 3 * 4 * 3 * 3 and set(p[0]) == set(PERIODICITY_GRID)


def test_settings_within_the_false_rep_bound_rank_first() -> None:
    """A setting that counts curls as reps loses to one that does not, whatever its MAE; within each
    side of the bound MAE decides, then OBO, then fewer false reps."""
    def cand(mae: float, obo: float, false: float) -> Candidate:
        return Candidate({"mae": mae}, Report(mae=mae, obo=obo, false_reps_per_other_clip=false))

    over = cand(0.10, 1.0, FALSE_REP_BOUND + 0.5)
    ranked = sorted([over, cand(0.40, 0.5, 0.2), cand(0.30, 0.6, 1.0), cand(0.30, 0.8, 0.9)], key=Candidate.rank)
    assert [c.values["mae"] for c in ranked] == [0.30, 0.30, 0.40, 0.10]
    assert ranked[0].report.obo == 0.8 and ranked[-1] is over


@pytest.mark.slow
def test_replayed_counts_are_the_pipelines(small_ir, training_clips, tmp_path) -> None:
    """Every clip of the session's rendered set, held-out ones too (where the small model errs and the
    settings matter): the config's own figures from the replay are those of `homegym eval`, and so are
    those of the candidate that equals it."""
    manifest = training_clips / "clips.csv"
    cfg = tmp_path / "config.yaml"
    # every rep up -> down -> up (counter.bottom_first off): the small model's held-out counts then hang on the voting
    cfg.write_text("voting:\n  ema_alpha: 0.35\n  min_dwell: 3\n  enter: 0.6\n  exit: 0.4\n  exercise_alpha: 0.1\n"
                   "counter:\n  bottom_first: false\n")
    ev = run_cli("eval", str(manifest), "--model", str(small_ir), "--config", str(cfg), "--json")
    tu = run_cli("tune", str(manifest), "--model", str(small_ir), "--config", str(cfg), "--json")
    assert ev.returncode == 0 and tu.returncode == 0, (ev.stderr[-2000:], tu.stderr[-2000:])
    evaluated, tuned = json.loads(ev.stdout), json.loads(tu.stdout)
    assert {k: tuned["current"][k] for k in FIGURES} == pytest.approx({k: evaluated[k] for k in FIGURES})
    same = next(c for c in tuned["ranked"] if c["voting"] == {"ema_alpha": 0.35, "min_dwell": 3, "enter": 0.6, "exit": 0.4,
                                                               "exercise_alpha": 0.1})
    assert {k: same[k] for k in FIGURES} == pytest.approx({k: evaluated[k] for k in FIGURES})
    ranks = [(c["false_reps_per_other_clip"] > FALSE_REP_BOUND, c["mae"], -c["obo"], c["false_reps_per_other_clip"])
             for c in tuned["ranked"]]
    assert ranks == sorted(ranks) and len(ranks) == len(candidates())
    assert len({(c["mae"], c["obo"]) for c in tuned["ranked"]}) > 1, "the settings change the counts on held-out clips"


@pytest.mark.slow
def test_held_back_tunes_on_the_models_validation_clips_only(small_model, small_ir, training_clips, tmp_path) -> None:
    val = set(json.loads((small_model[0] / "report.json").read_text())["split"]["clips"]["val"])
    r = run_cli("tune", str(training_clips / "clips.csv"), "--model", str(small_ir), "--held-back", "--top", "3",
                "--grid", "periodicity")
    assert r.returncode == 0, r.stderr[-2000:]
    recorded = {line.split("] ", 1)[1].split(".mp4:")[0] for line in r.stderr.splitlines() if "frames recorded" in line}
    assert recorded and recorded <= val
    assert "best, for config.yaml:" in r.stdout and "\nperiodicity:\n  window_s: " in r.stdout
    bare = tmp_path / "bare"
    bare.mkdir()
    for f in ("model.xml", "model.bin"):
        shutil.copy(small_ir / f, bare / f)
    assert "training report" in one_line_error(run_cli("tune", str(training_clips / "clips.csv"), "--model", str(bare), "--held-back"))


def test_tracks_without_oof_is_one_line(training_clips, tmp_path) -> None:
    """The keypoints go with out-of-fold probabilities; a model run has its own pose stage."""
    err = one_line_error(run_cli("tune", str(training_clips / "clips.csv"), "--tracks", str(tmp_path)))
    assert "--tracks goes with --oof" in err
