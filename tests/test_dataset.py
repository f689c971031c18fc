"""Datasets: discovery of every documented source, the split by clip, and one-line errors on bad input."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support import one_line_error, run_cli

from homegym.core.errors import UserError
from homegym.train.image import dataset
from homegym.train.image.extract import extract


def _fake_clips(groups: list[str], splits: list[str] | None = None) -> list[dataset.Clip]:
    splits = splits or [""] * len(groups)
    return [
        dataset.Clip(f"clip{i}", g, s, np.zeros((3, 8, 8, 3), np.uint8), np.array([0, 1, 1]), np.arange(3), "x")
        for i, (g, s) in enumerate(zip(groups, splits))
    ]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 12), min_size=2, max_size=40), st.integers(0, 10_000))
def test_split_never_puts_a_group_on_both_sides(group_ids: list[int], seed: int) -> None:
    clips = _fake_clips([f"g{g}" for g in group_ids])
    if len(set(group_ids)) < 2:
        return
    split = dataset.split_clips(clips, seed)
    side = {}
    for c in clips:
        assert side.setdefault(c.group, split.assignment[c.name]) == split.assignment[c.name]
    assert "test" in split.assignment.values() and "train" in split.assignment.values()
    assert dataset.split_clips(clips, seed) == split  # seeded: the same split every time


def test_split_column_of_the_data_wins() -> None:
    clips = _fake_clips(["a", "b", "c", "d"], ["train", "eval", "train", "eval"])
    split = dataset.split_clips(clips, 3)
    assert [split.assignment[c.name] for c in clips] == ["train", "test", "train", "test"]
    with pytest.raises(UserError, match="both sides"):
        dataset.split_clips(_fake_clips(["a", "a", "b"], ["train", "eval", "eval"]), 0)


def test_videos_with_labels_and_image_folders_load_the_same_frames(rendered, tmp_path) -> None:
    sources = dataset.discover([rendered])
    clips, labels = dataset.load(sources, 32, 3, cache=tmp_path / "cache")
    assert labels[0] == "neither" and "pushup_down" in labels and "squat_up" in labels
    assert all(c.frames.shape[1:] == (32, 32, 3) and c.frames.dtype == np.uint8 for c in clips)
    # A second load comes from the cache and is identical.
    again, _ = dataset.load(sources, 32, 3, cache=tmp_path / "cache")
    assert all((a.frames == b.frames).all() for a, b in zip(clips, again))
    # The same clips as three-class image folders (via extract): same frames per label, grouped by clip.
    counts = extract([rendered], tmp_path / "images", stride=3, size=None)
    img_clips, img_labels = dataset.load(dataset.discover([tmp_path / "images"]), 32, 1, cache=None)
    assert img_labels == labels
    assert sum(counts.values()) == sum(len(c.labels) for c in clips)
    assert {c.name for c in img_clips} == {c.name for c in clips}


def test_unlabelled_frames_can_be_kept_for_a_streams_statistics(rendered, tmp_path) -> None:
    sources = dataset.discover([rendered])
    labelled, _ = dataset.load(sources, 32, 3, cache=tmp_path / "cache")
    every, _ = dataset.load(sources, 32, 3, cache=tmp_path / "cache", unlabelled=True)
    assert sum((c.labels < 0).sum() for c in every) > 0  # the rendered clips start and end unlabelled
    for lab, all_ in zip(labelled, every):
        keep = all_.labels >= 0
        assert (all_.frames[keep] == lab.frames).all() and (all_.frame_index[keep] == lab.frame_index).all()
        assert (np.diff(all_.frame_index) == 3).all()  # every sampled frame, none skipped
        assert all_.fps == lab.fps > 0


def test_rep_manifest_is_a_dataset(rendered) -> None:
    sources = dataset.discover([rendered / "clips.csv"])
    assert len(sources) == 10 and all(s.labels is not None for s in sources)


def test_bad_dataset_inputs_are_one_line_errors(tmp_path, rendered) -> None:
    out = str(tmp_path / "run")
    assert "not found" in one_line_error(run_cli("train", "--kind", "image", str(tmp_path / "nope"), "-o", out))
    (tmp_path / "empty").mkdir()
    assert "no labelled videos" in one_line_error(run_cli("train", "--kind", "image", str(tmp_path / "empty"), "-o", out))
    bad = tmp_path / "badlabel" / "sideways"
    bad.mkdir(parents=True)
    shutil.copy(next(rendered.glob("*.mp4")), bad / "x.mp4")
    assert "not a label" in one_line_error(run_cli("train", "--kind", "image", str(tmp_path / "badlabel"), "-o", out))
    (tmp_path / "emptylabel" / "up").mkdir(parents=True)
    assert "holds no images" in one_line_error(run_cli("train", "--kind", "image", str(tmp_path / "emptylabel"), "-o", out))
    corrupt = tmp_path / "corrupt"
    corrupt.mkdir()
    (corrupt / "c.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"garbage" * 100)
    (corrupt / "c.labels.csv").write_text("start,end,label\n0,10,up\n11,20,down\n")
    assert "cannot" in one_line_error(run_cli("train", "--kind", "image", str(corrupt), "-o", out))
    lab = tmp_path / "unknown"
    lab.mkdir()
    shutil.copy(next(rendered.glob("*.mp4")), lab / "v.mp4")
    (lab / "v.labels.csv").write_text("start,end,label\n0,10,pushup_middle\n")
    assert "unknown label" in one_line_error(run_cli("train", "--kind", "image", str(lab), "-o", out))
    assert "cannot open video" in one_line_error(run_cli("extract", str(corrupt / "c.mp4"), "--out", out))
