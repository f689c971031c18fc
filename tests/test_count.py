"""``homegym count``: the daemon's pipeline end to end on real encoded video, with real OpenVINO inference."""

from __future__ import annotations

import json

import cv2
import pytest
from support import counted_rows, one_line_error, run_cli


@pytest.mark.slow
def test_count_is_exact_on_rendered_clips(image_ir, image_clips) -> None:
    clips = counted_rows(image_clips)
    assert sum(int(c["reps"]) for c in clips) >= 5 and any(c["exercise"] == "other" for c in clips)
    for c in clips:
        r = run_cli("count", str(image_clips / c["file"]), "--model", str(image_ir), "--json")
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


def _doubled(src, dst) -> int:
    """The clip at twice its frame rate, each frame twice: the same movement in time, twice the frames."""
    cap = cv2.VideoCapture(str(src))
    fps = cap.get(cv2.CAP_PROP_FPS)
    out = None
    n = 0
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        if out is None:
            out = cv2.VideoWriter(str(dst), cv2.VideoWriter_fourcc(*"mp4v"), 2 * fps, (frame.shape[1], frame.shape[0]))
        out.write(frame)
        out.write(frame)
        n += 2
    out.release()
    return n


@pytest.mark.slow
def test_a_30_fps_clip_is_inferred_at_15_and_counts_the_same(image_ir, image_clips, tmp_path) -> None:
    """pipeline.infer_fps: 15 passes on every 2nd frame of a 30 fps source, with the source's own ids and
    times, so the count is that of the 15 fps original; null infers every frame."""
    c = next(c for c in counted_rows(image_clips) if int(c["reps"]) >= 2)
    clip = tmp_path / "30fps.mp4"
    n = _doubled(image_clips / c["file"], clip)
    every = tmp_path / "every.yaml"
    every.write_text("pipeline:\n  infer_fps: null\n")
    for config, inferred in ((None, n // 2), (every, n)):
        r = run_cli("count", str(clip), "--model", str(image_ir), "--json", *(["--config", str(config)] if config else []))
        assert r.returncode == 0, r.stderr[-2000:]
        lines = [json.loads(line) for line in r.stdout.splitlines()]
        summary = lines[-1]
        assert (summary["frames"], summary["frames_read"]) == (inferred, n)
        if config is None:  # every 2nd frame of the doubled clip: exactly the original's frames
            assert summary["total"] == int(c["reps"]), summary
            bottoms = [2 * int(b) for b in c["rep_bottom_frames"].split(";")]
            assert all(b < x["frame"] < b + 2 * 30 and x["frame"] % 2 == 0 for x, b in zip(lines[:-1], bottoms)), lines


@pytest.mark.slow
def test_count_prints_reps_and_writes_an_annotated_video(image_ir, image_clips, tmp_path) -> None:
    c = next(c for c in counted_rows(image_clips) if int(c["reps"]) >= 2)
    out = tmp_path / "why.mp4"
    r = run_cli("count", str(image_clips / c["file"]), "--model", str(image_ir), "--annotate", str(out))
    assert r.returncode == 0, r.stderr[-2000:]
    lines = r.stdout.strip().splitlines()
    assert len(lines) == int(c["reps"]) + 1
    assert lines[0].split()[1:4] == [c["exercise"], "rep", "1"] and "confidence" in lines[0]
    assert " tempo " in lines[0] or " not measured: " in lines[0], lines[0]  # --annotate runs the pose stage: reps are measured
    assert lines[-1].startswith(f"total {c['reps']} ")
    cap = cv2.VideoCapture(str(out))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == int(c["frames"]) and cap.get(cv2.CAP_PROP_FRAME_HEIGHT) >= 360


def test_count_errors_are_one_line(image_ir, tmp_path, image_clips) -> None:
    clip = next(image_clips.glob("*.mp4"))
    for args, msg in (
        ([str(tmp_path / "none.mp4"), "--model", str(image_ir)], "video not found"),
        ([str(clip), "--model", str(tmp_path / "nomodel.xml")], "model not found"),
        ([str(clip), "--model", str(image_ir), "--config", str(tmp_path / "no.yaml")], "cannot read config"),
    ):
        r = run_cli("count", *args)
        assert r.returncode == 2 and msg in one_line_error(r)


@pytest.mark.slow
def test_a_file_cut_short_is_reported_not_passed_off_as_complete(image_ir, image_clips, tmp_path) -> None:
    """A truncated mp4 still declares all its frames: the summary says how many were read of how many declared,
    and a warning says the file is damaged."""
    c = next(c for c in counted_rows(image_clips) if int(c["reps"]) >= 2)
    whole = (image_clips / c["file"]).read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(whole[: len(whole) // 3])
    r = run_cli("count", str(cut), "--model", str(image_ir), "--json")
    if r.returncode != 0:  # some FFmpeg builds refuse a file cut before its index: then that is a one-line error
        assert "Traceback" not in r.stderr and len(one_line_error(r)) > 0
        return
    summary = json.loads(r.stdout.splitlines()[-1])
    assert summary["frames_declared"] == int(c["frames"]) and summary["frames_read"] < 0.9 * int(c["frames"]), summary
    assert f"of the {c['frames']} frames the file declares: it is damaged or cut short" in r.stderr


def test_a_damaged_model_says_why_in_one_line(image_ir, image_clips, tmp_path) -> None:
    import shutil

    bad = tmp_path / "bad"
    shutil.copytree(image_ir, bad)
    xml = (bad / "model.xml").read_text()
    (bad / "model.xml").write_text(xml[: len(xml) // 2])
    clip = next(image_clips.glob("*.mp4"))
    line = one_line_error(run_cli("count", str(clip), "--model", str(bad)))
    assert "cannot read model" in line and " at offset " in line and "convert it again" in line, line  # the XML parser's reason
    assert "core.cpp" not in line
    (bad / "model.xml").write_bytes(bytes(range(256)) * 8)  # not XML at all: no other frontend gets to try it
    r = run_cli("count", str(clip), "--model", str(bad))
    assert "not an OpenVINO IR (the file is not XML)" in one_line_error(r) and "GraphDef" not in r.stderr, r.stderr[-2000:]
