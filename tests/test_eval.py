"""``homegym eval`` on rendered clips with known counts, and its scoring."""

from __future__ import annotations

import csv
import json

import pytest
from support import learned_clips, one_line_error, run_cli

from homegym.measure.evaluate import ClipResult, summarise


def test_scores_follow_their_definitions() -> None:
    clips = [ClipResult("a", "pushup", 10, 10, {}, 100, 0.9, 100), ClipResult("b", "squat", 4, 6, {}, 50, 0.5, 50),
             ClipResult("c", "squat", 5, 4, {}, 50), ClipResult("d", "other", 0, 3, {}, 80, 1.0, 10),
             ClipResult("e", "other", 0, 0, {}, 80)]
    r = summarise(clips)
    assert r.mae == pytest.approx((0 + 2 / 4 + 1 / 5) / 3)
    assert r.obo == pytest.approx(2 / 3) and r.exact == pytest.approx(1 / 3)
    assert r.false_reps_per_other_clip == pytest.approx(1.5)
    assert r.labelled_frames == 160 and r.frame_acc == pytest.approx((90 + 25 + 10) / 160)


@pytest.mark.slow
def test_eval_on_rendered_clips_with_known_counts(small_model, small_ir, training_clips, tmp_path) -> None:
    rows = learned_clips(small_model, training_clips)
    wrong = next(r for r in rows if int(r["reps"]) >= 2)
    manifest = tmp_path / "clips.csv"
    fields = [k for k in rows[0] if k != "name"]
    with manifest.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields, extrasaction="ignore")
        w.writeheader()
        for r in rows:
            r = dict(r, file=str(training_clips / r["file"]))
            if r["file"].endswith(wrong["file"]):  # claims two reps more than the clip holds
                r["reps"] = str(int(wrong["reps"]) + 2)
                r["rep_bottom_frames"] = ""  # no marks: the frame labels come from the clip's labels file
            w.writerow(r)
    out = tmp_path / "report"
    r = run_cli("eval", str(manifest), "--model", str(small_ir), "--out", str(out), "--json")
    assert r.returncode == 0, r.stderr[-2000:]
    report = json.loads(r.stdout)
    by_clip = {c["clip"]: c for c in report["clips"]}
    assert len(by_clip) == len(rows)
    for row in rows:
        c = by_clip[row["file"]]
        assert c["counted"] == int(row["reps"]), c  # what `homegym count` counts (test_count)
        assert c["frame_acc"] is not None and c["frame_acc"] >= 0.9 and c["labelled"] > 0
    rep_clips = [row for row in rows if row["exercise"] != "other" and int(row["reps"]) > 0]
    n_rep = len(rep_clips)
    assert report["mae"] == pytest.approx((2 / (int(wrong["reps"]) + 2)) / n_rep)
    assert report["obo"] == pytest.approx((n_rep - 1) / n_rep)
    assert report["false_reps_per_other_clip"] == 0
    assert (out / "eval.png").stat().st_size > 1000 and "| MAE (rep clips) |" in (out / "eval.md").read_text()
    counted = run_cli("count", str(training_clips / wrong["file"]), "--model", str(small_ir), "--json")
    assert json.loads(counted.stdout.splitlines()[-1])["total"] == by_clip[wrong["file"]]["counted"]


def test_eval_errors_are_one_line(tmp_path) -> None:
    assert "cannot read manifest" in one_line_error(run_cli("eval", str(tmp_path / "nope.csv")))
    bad = tmp_path / "bad.csv"
    bad.write_text("file,exercise,reps,rep_bottom_frames\nmissing.mp4,pushup,3,1;2;3\n")
    assert "clip not found" in one_line_error(run_cli("eval", str(bad)))
