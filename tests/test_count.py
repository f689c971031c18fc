"""``homegym count``: the daemon's pipeline end to end on real encoded video, with real OpenVINO inference."""

from __future__ import annotations

import json

import cv2
import pytest

from conftest import learned_clips, one_line_error, run_cli


@pytest.mark.slow
def test_count_is_exact_on_rendered_clips(small_model, small_ir, training_clips) -> None:
    clips = learned_clips(small_model, training_clips)
    assert sum(int(c["reps"]) for c in clips) >= 5 and any(c["exercise"] == "other" for c in clips)
    for c in clips:
        r = run_cli("count", str(training_clips / c["file"]), "--model", str(small_ir), "--json")
        assert r.returncode == 0, r.stderr[-2000:]
        lines = [json.loads(line) for line in r.stdout.splitlines()]
        reps, summary = lines[:-1], lines[-1]
        assert summary["type"] == "summary" and summary["frames"] == int(c["frames"]) and summary["fps"] > 0
        assert summary["total"] == int(c["reps"]), (c["name"], summary)
        assert len(reps) == int(c["reps"]) and all(x["type"] == "rep" for x in reps)
        if reps:
            assert [x["seq"] for x in reps] == sorted(x["seq"] for x in reps)
            assert {x["exercise"] for x in reps} == {c["exercise"]}
            assert summary["by_exercise"][c["exercise"]] == int(c["reps"])
            bottoms = [int(b) for b in c["rep_bottom_frames"].split(";")]
            for x, b in zip(reps, bottoms):  # decided after the bottom, before the next one
                assert b < x["frame"] < b + 2 * 15, (x, b)


@pytest.mark.slow
def test_count_prints_reps_and_writes_an_annotated_video(small_model, small_ir, training_clips, tmp_path) -> None:
    c = next(c for c in learned_clips(small_model, training_clips) if int(c["reps"]) >= 2)
    out = tmp_path / "why.mp4"
    r = run_cli("count", str(training_clips / c["file"]), "--model", str(small_ir), "--annotate", str(out))
    assert r.returncode == 0, r.stderr[-2000:]
    lines = r.stdout.strip().splitlines()
    assert len(lines) == int(c["reps"]) + 1
    assert lines[0].split()[1:4] == [c["exercise"], "rep", "1"] and "confidence" in lines[0]
    assert lines[-1].startswith(f"total {c['reps']} ")
    cap = cv2.VideoCapture(str(out))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == int(c["frames"]) and cap.get(cv2.CAP_PROP_FRAME_HEIGHT) >= 360


def test_count_errors_are_one_line(small_ir, tmp_path, training_clips) -> None:
    clip = next(training_clips.glob("*.mp4"))
    for args, msg in (
        ([str(tmp_path / "none.mp4"), "--model", str(small_ir)], "video not found"),
        ([str(clip), "--model", str(tmp_path / "nomodel.xml")], "model not found"),
        ([str(clip), "--model", str(small_ir), "--config", str(tmp_path / "no.yaml")], "cannot read config"),
    ):
        r = run_cli("count", *args)
        assert r.returncode == 2 and msg in one_line_error(r)
