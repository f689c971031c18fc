from __future__ import annotations

import pytest

from homegym.core import exercises, labelfile
from homegym.core.errors import UserError
from homegym.core.exercises import START, TURN
from homegym.core.labels import LabelSet, order_labels, parse_label


def test_vocabulary() -> None:
    assert parse_label("pushup_down").exercise == "pushup"
    assert parse_label("up").exercise is None and parse_label("up").phase == "up"
    assert parse_label("neither").phase is None
    assert (parse_label("jumping_jack_up").exercise, parse_label("shoulder_press_down").phase) == ("jumping_jack", "down")
    for bad in ("Pushup_down", "pushup_middle", "sideways", "", "squat-up", "_up", "jumping__jack_up", "jumping_jack_"):
        with pytest.raises(UserError):
            parse_label(bad)


def test_order_and_exercises() -> None:
    labels = order_labels({"squat_down", "pushup_up", "neither", "squat_up", "pushup_down"})
    assert labels == ("neither", "pushup_up", "pushup_down", "squat_up", "squat_down")
    assert LabelSet.of(labels).exercises == ("pushup", "squat")
    assert order_labels({"down", "up", "neither"}) == ("neither", "up", "down")
    with pytest.raises(UserError, match="mix"):
        order_labels({"up", "pushup_down"})


def test_label_set_says_once_what_each_label_means() -> None:
    ls = LabelSet.of(("neither", "pushup_up", "pushup_down", "squat_up", "squat_down"))
    assert ls.index("squat", TURN) == 4 and ls.indices(START) == [1, 3] and ls.indices(None) == [0]
    assert ls.pairs() == [(1, 2), (3, 4)]
    seed = LabelSet.of(("neither", "up", "down"), bare_exercise="pushup")
    assert seed.exercises == ("pushup",) and seed.exercise_of == (None, "pushup", "pushup")
    with pytest.raises(UserError, match="set counter.exercise"):
        LabelSet.of(("neither", "up", "down"))


def test_a_pull_up_turns_at_the_top_and_a_push_up_at_the_bottom() -> None:
    """Labels name positions; the roles come from the exercise: what gym/state shows reads as what the person does."""
    ls = LabelSet.of(order_labels({"neither", "pullup_up", "pullup_down", "pushup_up", "pushup_down"}))
    assert ls.labels == ("neither", "pullup_up", "pullup_down", "pushup_up", "pushup_down")
    assert ls.role_of == (None, TURN, START, START, TURN)
    assert ls.pairs() == [(2, 1), (3, 4)]  # (start, turn) of each
    assert [exercises.of(e).label(TURN) for e in exercises.EXERCISES] == [
        "pushup_down", "squat_down", "lunge_down", "situp_up", "jumping_jack_up", "pullup_up", "curl_up", "shoulder_press_up"]
    assert exercises.of("burpee").label(TURN) == "burpee_down"  # an exercise of one's own turns down


@pytest.mark.parametrize("labels, lacking", [
    (("neither", "curl_up", "pushup_up", "pushup_down"), "curl_down"),
    (("neither", "pullup_down", "pushup_up", "pushup_down"), "pullup_up"),
    (("neither",), "no exercise phase"),
])
def test_labels_the_counter_cannot_pair_are_refused_in_one_line(labels, lacking) -> None:
    with pytest.raises(UserError, match=lacking) as e:
        LabelSet.of(labels)
    assert "\n" not in str(e.value)


def test_labels_file_round_trip(tmp_path) -> None:
    video = tmp_path / "clip.mp4"
    video.write_bytes(b"")
    frames = [None, "squat_up", "squat_up", None, "squat_down", "squat_down", "squat_down", "neither"]
    lf = labelfile.LabelFile(labelfile.segments_from_frames(frames), video=video, meta={"split": "train"})
    path = tmp_path / "sub" / "clip.labels.csv"
    labelfile.write(path, lf)
    back = labelfile.read(path)
    assert back.video == video.resolve()
    assert back.meta == {"split": "train"}
    idx = {"neither": 0, "squat_up": 1, "squat_down": 2}
    assert back.per_frame(len(frames), idx).tolist() == [-1, 1, 1, -1, 2, 2, 2, 0]


@pytest.mark.parametrize(
    "body, message",
    [
        ("start,end,label\n0,5,up\n3,8,down\n", "overlap"),
        ("start,end,label\n0,5,sideways\n", "unknown label"),
        ("start,end,label\n5,2,up\n", "start <= end"),
        ("frame,label\n0,up\n", "not a labels file"),
        ("start,end,label\n0,x,up\n", "row 2"),
    ],
)
def test_bad_labels_files(tmp_path, body: str, message: str) -> None:
    p = tmp_path / "x.labels.csv"
    p.write_text(body)
    with pytest.raises(UserError, match=message):
        labelfile.read(p)
