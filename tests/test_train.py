"""``homegym train`` end to end on rendered clips: a small model learns, the report is honest and complete."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import run_cli


@pytest.mark.slow
def test_small_model_beats_chance_on_held_out_clips(small_model) -> None:
    out, r = small_model
    rep = json.loads((out / "report.json").read_text())
    test = rep["evaluation"]["test"]
    support = [c["support"] for c in test["per_class"].values()]
    majority = max(support) / sum(support)
    assert test["accuracy"] > max(majority, 1 / len(rep["labels"])) + 0.1, (test["accuracy"], majority)
    # The split is by clip and written down: no clip on both sides.
    clips = rep["split"]["clips"]
    assert not set(clips["train"]) & set(clips["test"]) and not set(clips["val"]) & set(clips["test"])
    assert rep["split"]["seed"] == 1 and rep["model"]["size"] == 96
    for f in ("model.keras", "curves.png", "confusion.png"):
        assert (out / f).stat().st_size > 0
    assert "| squat_down |" in r.stdout  # the per-class table, train and held-out side by side


@pytest.mark.slow
def test_augmented_fine_tuned_motion_crop_model_trains_converts_and_counts(training_clips, tmp_path) -> None:
    """The whole chain for a model on motion crops: the framing goes from the report into the IR, and the daemon crops."""
    out = tmp_path / "aug"
    r = run_cli("train", str(training_clips), "-o", str(out), "--weights", "none", "--alpha", "0.35", "--size", "64",
                "--epochs", "1", "--fine-tune-epochs", "1", "--unfreeze", "all", "--steps-per-epoch", "3",
                "--batch", "8", "--stride", "6", "--cache", "none", "--framing", "motion")
    assert r.returncode == 0, r.stderr[-2000:]
    rep = json.loads((out / "report.json").read_text())
    assert rep["settings"]["augment"] is True
    assert rep["history"]["phase_starts"] == [0, 1] and len(rep["history"]["loss"]) == 2
    assert rep["model"]["framing"]["mode"] == "motion"
    import keras

    model = keras.models.load_model(out / "model.keras")
    assert model.output_shape[-1] == len(rep["labels"])

    ir = tmp_path / "ir"
    r = run_cli("convert", str(out / "model.keras"), "-o", str(ir), "--stride", "6", "--cache-dir", "none")
    assert r.returncode == 0, r.stderr[-2000:]
    from homegym.framing import Framing
    from homegym.model_info import read_ir

    assert read_ir(ir)[1].framing == Framing.from_dict(rep["model"]["framing"]) != Framing()
    clip = sorted(training_clips.glob("pushup_*.mp4"))[0]
    r = run_cli("count", str(clip), "--model", str(ir))
    assert r.returncode == 0, r.stderr[-2000:]


def test_bad_weights_and_settings_are_one_line_errors(training_clips, tmp_path) -> None:
    for args, msg in (
        (["--weights", str(tmp_path / "missing.weights.h5")], "weights file not found"),
        (["--alpha", "0.6"], "--alpha must be one of"),
        (["--epochs", "0"], "nothing to train"),
    ):
        r = run_cli("train", str(training_clips), "-o", str(tmp_path / "x"), *args)
        assert r.returncode == 2 and msg in r.stderr and "Traceback" not in r.stderr, r.stderr[-1500:]


def test_importing_keras_leaves_stderr_to_the_command() -> None:
    """TensorFlow's native start-up lines (oneDNN on Intel CPUs, absl) go to the debug log, not the terminal."""
    code = ("import logging, sys; logging.basicConfig(level=logging.DEBUG, stream=sys.stdout)\n"
            "from homegym import keras_import; keras_import.keras()\n"
            "print('after', file=sys.stderr)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and r.stderr == "after\n", r.stderr[-2000:]
