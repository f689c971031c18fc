"""Deriving per-frame labels from rep bottoms: the documented rule, on made-up marks and on rendered clips."""

from __future__ import annotations

import numpy as np

from homegym.core import labelfile, manifest
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
    sharp = rep_labels("squat", bottoms, n, 30.0, Signal(angle, "angle"))
    assert sum(x == "squat_down" for x in sharp) > sum(x == "squat_down" for x in plain)
    # A mark that the pose contradicts (a "bottom" where the knee is straight) loses its down frames.
    shifted = rep_labels("squat", [60, 120], n, 30.0, Signal(angle, "angle"))
    assert "squat_down" not in shifted[55:66]


def test_other_movements_are_neither_except_standing_or_plank() -> None:
    n = 4
    fields = {k: np.full(n, np.nan) for k in ("elbow", "ve", "knee", "vk", "hipang", "sh_y", "hip_y", "nose_y")}
    # frame 0: standing; 1: plank; 2: kneeling (knee bent); 3: no person found
    fields["knee"][:3] = [175, 172, 90]
    fields["hipang"][:3] = [170, 170, 160]
    fields["sh_y"][:3] = [0.3, 0.6, 0.4]
    fields["hip_y"][:3] = [0.55, 0.62, 0.6]
    fields["elbow"][:3] = [170, 165, 90]
    assert other_labels(n, fields) == [None, None, "neither", "neither"]
    assert other_labels(n, None) == ["neither"] * n


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
