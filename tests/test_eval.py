"""``homegym eval`` on rendered clips with known counts, and its scoring."""

from __future__ import annotations

import csv
import json

import pytest
from support import learned_clips, one_line_error, run_cli

from homegym.measure.evaluate import ClipResult, markdown, summarise


def test_scores_follow_their_definitions() -> None:
    clips = [ClipResult("a", "pushup", 10, 10, {"pushup": 9, "squat": 1}, 100, 0.9, 100),
             ClipResult("b", "squat", 4, 6, {"squat": 6}, 50, 0.5, 50),
             ClipResult("c", "squat", 5, 4, {"squat": 3, "pushup": 1}, 50), ClipResult("d", "other", 0, 3, {"squat": 3}, 80, 1.0, 10),
             ClipResult("e", "other", 0, 0, {}, 80)]
    r = summarise(clips)
    assert r.mae == pytest.approx((0 + 2 / 4 + 1 / 5) / 3)
    assert r.obo == pytest.approx(2 / 3) and r.exact == pytest.approx(1 / 3)
    assert r.false_reps_per_other_clip == pytest.approx(1.5)
    assert r.labelled_frames == 160 and r.frame_acc == pytest.approx((90 + 25 + 10) / 160)
    # each exercise's own figures, and which exercise the counted reps went to
    assert (r.by_exercise["pushup"].clips, r.by_exercise["pushup"].mae) == (1, 0.0)
    assert r.by_exercise["squat"].mae == pytest.approx((2 / 4 + 1 / 5) / 2) and r.by_exercise["squat"].obo == pytest.approx(0.5)
    assert r.reps_given_to == {"pushup": {"pushup": 9, "squat": 1}, "squat": {"squat": 9, "pushup": 1}, "other": {"squat": 3}}
    assert r.right_exercise == pytest.approx(18 / 20)
    text = markdown(r)
    assert "| squat | 2 | 0.350 | 50.0% | 0.0% |" in text and "| squat | pushup 1, squat 9 |" in text


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


def _write_manifest(path, rows: list[dict]) -> None:
    with path.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["file", "exercise", "reps", "rep_bottom_frames", "split"])
        w.writeheader()
        w.writerows(rows)


def test_a_manifest_keeps_the_known_exercises_and_notes_any_other_name(tmp_path) -> None:
    from homegym.core import manifest

    path = tmp_path / "clips.csv"
    _write_manifest(path, [{"file": "a.mp4", "exercise": "pushup", "reps": "2", "rep_bottom_frames": "5;9"},
                           {"file": "b.mp4", "exercise": "pushups", "reps": "1", "rep_bottom_frames": "3"},
                           {"file": "c.mp4", "exercise": "shoulder_press", "reps": "1", "rep_bottom_frames": "4"}])
    notes: list[str] = []
    rows = manifest.read(path, notes)
    assert [r.name for r in rows] == ["a", "c"]
    assert len(notes) == 1 and "row 3 (b.mp4) left out: unknown exercise 'pushups'" in notes[0]
    press = rows[1].scored_for(("pushup", "squat"))
    assert (press.exercise, press.reps, press.bottoms, press.shows) == ("other", 0, (), "shoulder_press")
    assert rows[0].scored_for(("pushup", "squat")) is rows[0] and rows[1].scored_for(manifest.EXERCISES) is rows[1]


def test_eval_scores_a_model_on_the_exercises_it_knows(image_ir, image_clips, tmp_path) -> None:
    """A clip of an exercise the model lacks is a movement it must not count (its reps are false reps), and a row
    naming no known exercise is left out with a note in the report."""
    from support import counted_rows

    from homegym.daemon.config.settings import Config
    from homegym.measure import evaluate

    clip = next(r for r in counted_rows(image_clips) if r["exercise"] == "pushup" and int(r["reps"]) >= 2)
    path = tmp_path / "clips.csv"
    file = str(image_clips / clip["file"])
    _write_manifest(path, [{"file": file, "exercise": "pushup", "reps": clip["reps"], "rep_bottom_frames": clip["rep_bottom_frames"]},
                           {"file": file, "exercise": "curl", "reps": clip["reps"], "rep_bottom_frames": clip["rep_bottom_frames"]},
                           {"file": file, "exercise": "pushups", "reps": clip["reps"], "rep_bottom_frames": ""}])
    report = evaluate.run(path, Config(), image_ir, None, None)
    assert [(c.exercise, c.shows, c.true, c.counted) for c in report.clips] == [
        ("pushup", None, int(clip["reps"]), int(clip["reps"])), ("other", "curl", 0, int(clip["reps"]))]
    assert report.mae == 0 and report.false_reps_per_other_clip == int(clip["reps"])
    assert len(report.notes) == 1 and "unknown exercise 'pushups'" in report.notes[0]
    assert "Note: clips.csv: row 4" in evaluate.markdown(report) and "other (curl: not the model's)" in evaluate.markdown(report)
