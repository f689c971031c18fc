"""Deriving per-frame labels from rep bottoms: the documented rule, on made-up marks and on rendered clips."""

from __future__ import annotations

import numpy as np
import pytest

from homegym.core import body, labelfile, manifest
from homegym.core import keypoint_features as kf
from homegym.core.pose_track import PoseTrack
from homegym.train.from_reps import DOWN_FRAC, UP_FRAC, Signal, derive, other_labels, rep_labels


def test_rule_marks_bottoms_down_midpoints_up_and_leaves_the_rest_out() -> None:
    bottoms = [30, 90, 150]
    out = rep_labels("squat", bottoms, 200, 30.0)
    w = round(DOWN_FRAC * 60)
    for b in bottoms:
        assert all(out[f] == "squat_down" for f in range(b - w, b + w + 1))
    for mid in (60, 120):
        assert all(out[f] == "squat_up" for f in range(mid - round(UP_FRAC * 60), mid + round(UP_FRAC * 60) + 1))
    assert out[0] is None and out[199] is None  # before the first / after the last bottom: unknown
    assert out[45] is None  # the transition between a bottom and a midpoint
    assert set(out) == {None, "squat_up", "squat_down"}


def test_pose_trace_widens_agreeing_windows_and_vetoes_contradictions() -> None:
    n, bottoms = 200, [30, 90, 150]
    t = np.arange(n)
    angle = 130 - 50 * np.cos(2 * np.pi * (t - 30) / 60)  # knee angle: 80 at a bottom, 180 at the top
    plain = rep_labels("squat", bottoms, n, 30.0)
    sharp = rep_labels("squat", bottoms, n, 30.0, Signal(angle, "angle", grows=False))
    assert sum(x == "squat_down" for x in sharp) > sum(x == "squat_down" for x in plain)
    # A mark that the pose contradicts (a "bottom" where the knee is straight) loses its down frames.
    shifted = rep_labels("squat", [60, 120], n, 30.0, Signal(angle, "angle", grows=False))
    assert "squat_down" not in shifted[55:66]


def test_other_movements_are_neither_except_standing_or_plank() -> None:
    n = 4
    fields = {k: np.full(n, np.nan) for k in body.FIELDS}
    # frame 0: standing; 1: plank; 2: kneeling (knee bent); 3: no person found
    fields["knee"][:3] = [175, 172, 90]
    fields["hipang"][:3] = [170, 170, 160]
    fields["sh_y"][:3] = [0.3, 0.6, 0.4]
    fields["hip_y"][:3] = [0.55, 0.62, 0.6]
    fields["elbow"][:3] = [170, 165, 90]
    assert other_labels(n, fields) == [None, None, "neither", "neither"]
    assert other_labels(n, None) == ["neither"] * n


def test_a_model_of_pull_ups_and_sit_ups_leaves_out_hanging_and_lying_too() -> None:
    """The postures a known exercise starts from are left out of other movements' clips, and only those."""
    n = 3
    fields = {k: np.full(n, np.nan) for k in body.FIELDS}
    # frame 0: hanging (upright, wrists above the nose, knees bent); 1: lying on the back, knees bent; 2: kneeling
    fields["knee"][:] = [100, 80, 90]
    fields["hipang"][:] = [120, 110, 160]
    fields["sh_y"][:] = [0.4, 0.7, 0.4]
    fields["hip_y"][:] = [0.7, 0.72, 0.6]
    fields["nose_y"][:] = [0.3, 0.7, 0.3]
    fields["wr_y"][:] = [0.1, 0.75, 0.6]
    assert other_labels(n, fields) == ["neither"] * n  # the push-up and squat model: neither posture is a start of its
    assert other_labels(n, fields, known=("pullup", "situp")) == [None, None, "neither"]


def test_a_pull_up_is_labelled_up_at_its_turn_point() -> None:
    """The turn point carries the exercise's turn label: a pull-up's is the top, sharpened by the elbow closing."""
    n, turns = 200, [30, 90, 150]
    t = np.arange(n)
    elbow = 110 - 60 * np.cos(2 * np.pi * (t - 30) / 60)  # 50 degrees at the top (the turn), 170 hanging
    out = rep_labels("pullup", turns, n, 30.0, Signal(elbow, "angle", grows=False))
    assert {out[b] for b in turns} == {"pullup_up"} and {out[m] for m in (60, 120)} == {"pullup_down"}


def test_body_measures_read_the_pose_stages_keypoints() -> None:
    """A right-angled elbow is 90 degrees; the better-seen side wins; frames without a person stay unknown."""
    lm = np.zeros((2, 33, 4), np.float32)
    lm[..., 3] = 0.9
    lm[:, kf.L_SH, :2], lm[:, kf.L_EL, :2], lm[:, kf.L_WR, :2] = (0.5, 0.2), (0.5, 0.4), (0.7, 0.4)
    lm[:, kf.R_SH, :2], lm[:, kf.R_EL, :2], lm[:, kf.R_WR, :2] = (0.3, 0.2), (0.3, 0.4), (0.3, 0.6)
    lm[:, kf.R_WR, 3] = 0.2  # the right arm (straight) is barely seen
    track = PoseTrack(np.array([0, 2]), np.array([0.0, 0.1]), lm, np.zeros((2, 33, 3), np.float32), np.ones(2, np.float32),
                      np.array([True, False]), np.zeros((2, 4), np.float32), np.ones(2, bool), 20.0, 100, 100)
    m = body.measures(track, 3)
    assert m["elbow"][0] == pytest.approx(90.0, abs=0.1) and m["elbow_min"][0] == pytest.approx(90.0, abs=0.1)
    assert np.isnan(m["elbow"][1]) and np.isnan(m["elbow"][2])  # not inferred; nobody found


def test_derived_labels_agree_with_the_renderers_exact_labels(rendered) -> None:
    """The rule, fed only the rendered clips' bottoms, must not contradict the exact labels."""
    rows = [r for r in manifest.read(rendered / "clips.csv") if r.exercise != "other"]
    agree = total = 0
    for row, lf in derive(rows, None):
        exact = labelfile.read(rendered / f"{row.path.stem}.labels.csv")
        idx = {lab: i for i, lab in enumerate(sorted(exact.labels | lf.labels))}
        a = lf.per_frame(90, idx)
        b = exact.per_frame(90, idx)
        both = (a >= 0) & (b >= 0)
        agree += int((a[both] == b[both]).sum())
        total += int(both.sum())
    assert total > 50
    assert agree / total >= 0.97
