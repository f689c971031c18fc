"""Rendered clips: real encoded video, exact labels that agree with the rep list, deterministic per seed."""

from __future__ import annotations

import hashlib
import json

import cv2
import numpy as np
import pytest

from homegym.core import labelfile, manifest
from homegym.train.synth import render_clip


def _frames_digest(path) -> tuple[int, str]:
    cap = cv2.VideoCapture(str(path))
    h, n = hashlib.sha1(), 0
    while True:
        ok, f = cap.read()
        if not ok:
            break
        h.update(f.tobytes())
        n += 1
    return n, h.hexdigest()


def test_same_seed_same_clip_other_seed_other_clip(tmp_path) -> None:
    a = render_clip(tmp_path / "a", "squat", 7, duration=3, fps=15, size=(160, 120))
    b = render_clip(tmp_path / "b", "squat", 7, duration=3, fps=15, size=(160, 120))
    c = render_clip(tmp_path / "c", "squat", 8, duration=3, fps=15, size=(160, 120))
    assert _frames_digest(a.video) == _frames_digest(b.video)
    assert a.labels.read_text().split("\n", 2)[2] == b.labels.read_text().split("\n", 2)[2]
    assert _frames_digest(a.video)[1] != _frames_digest(c.video)[1]


def test_rendered_clips_are_real_video_with_consistent_labels(rendered) -> None:
    rows = manifest.read(rendered / "clips.csv")
    assert {r.exercise for r in rows} == {"pushup", "squat", "other"}
    total_reps = 0
    for row in rows:
        n, _ = _frames_digest(row.path)
        assert n == 90  # 6 s at 15 fps, decoded back by OpenCV
        lf = labelfile.read(rendered / f"{row.path.stem}.labels.csv")
        info = json.loads((rendered / f"{row.path.stem}.reps.json").read_text())
        assert len(info["reps"]) == row.reps == len(row.bottoms)
        if row.exercise == "other":
            assert lf.labels <= {"neither", "squat_up"}  # standing still is the top of a squat (DESIGN.md)
            continue
        total_reps += row.reps
        per = {}
        for s in lf.segments:
            per.update({f: s.label for f in range(s.start, s.end + 1)})
        downs = [s for s in lf.segments if s.label.endswith("_down")]
        assert len(downs) == row.reps, "one down segment per counted rep; partial reps never reach down"
        for b in row.bottoms:
            assert per.get(b) == f"{row.exercise}_down"
    assert total_reps > 0


def test_each_kind_draws_a_figure_that_moves(rendered) -> None:
    """Not a blank room: frames of a rep clip differ from each other far more than sensor noise."""
    row = next(r for r in manifest.read(rendered / "clips.csv") if r.reps)
    cap = cv2.VideoCapture(str(row.path))
    frames = []
    while True:
        ok, f = cap.read()
        if not ok:
            break
        frames.append(f.astype(np.int16))
    top = frames[max(row.bottoms[0] - 20, 0)]
    bottom = frames[row.bottoms[0]]
    changed = (np.abs(top - bottom).max(axis=2) > 40).mean()
    assert changed > 0.01


def test_unknown_kind_is_a_user_error(tmp_path) -> None:
    from homegym.core.errors import UserError

    with pytest.raises(UserError, match="unknown clip kind"):
        render_clip(tmp_path, "cartwheel", 1, duration=1)
