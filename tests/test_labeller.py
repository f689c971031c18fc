"""The interactive labeller's logic, driven by keys without a screen."""

from __future__ import annotations

import numpy as np

from homegym.core import labelfile
from homegym.train.labeller import Session, render


def test_keys_paint_frames_and_ranges() -> None:
    s = Session(n_frames=100, fps=10.0, exercise="squat")
    for _ in range(3):
        s.key("u")  # label and step on: holding a key paints a run
    assert s.labels[:4] == ["squat_up"] * 3 + [None] and s.pos == 3
    s.key("]")  # one second on
    s.key("m")
    s.key("]")
    s.key("d")  # the range from the mark to here
    assert s.labels[13:24] == ["squat_down"] * 11 and s.mark is None
    s.key("[")
    s.key("x")
    assert s.labels[13] is None
    s.key("{")
    assert s.pos == 0
    for _ in range(200):
        s.key(".")
    assert s.pos == 99  # clamped at the end
    assert s.key("s") == "save" and s.key("q") == "quit" and s.key("\x1b") == "abort"
    segs = labelfile.segments_from_frames(s.labels)
    assert [(g.start, g.end, g.label) for g in segs] == [(0, 2, "squat_up"), (14, 23, "squat_down")]


def test_seed_style_without_exercise_and_playback() -> None:
    s = Session(n_frames=5, fps=30.0)
    s.key("d")
    s.key("n")
    assert s.labels[:2] == ["down", "neither"]
    s.key(" ")
    for _ in range(10):
        s.tick()
    assert s.pos == 4 and not s.playing


def test_overlay_shows_the_timeline() -> None:
    s = Session(n_frames=50, fps=10.0, exercise="pushup")
    s.key("m")
    s.key("}")
    s.key("d")
    img = render(s, np.zeros((120, 160, 3), np.uint8))
    assert img.shape == (160, 160, 3)
    assert (img[120:] == (60, 60, 230)).all(axis=2).any()  # the down colour appears in the timeline


def test_headless_opencv_gets_a_one_line_hint(rendered) -> None:
    """The daemon's install has headless OpenCV: the labeller says how to get a GUI, it does not crash."""
    import pytest
    from support import one_line_error, run_cli

    from homegym.train.labeller import _has_gui

    if _has_gui():
        pytest.skip("this OpenCV has a GUI")
    err = one_line_error(run_cli("label", str(next(rendered.glob("*.mp4")))))
    assert "pip install opencv-python" in err
