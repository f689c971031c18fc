"""Shared fixtures: rendered clips (made once per session), the shipped model, a small trained one, the real data.

Tiers by what a test needs: the daemon's tests run on a shipped IR and the rendered clips it
counts right (no TensorFlow, no training); tests that train or convert take ``small_model``,
which skips cleanly where the train extra is not installed.

The service's own tests (MQTT, the outbox, reloads, signals, the live source) run on the shipped
image classifier (``image_ir``): it counts the rendered clips below exactly and costs a third of
the keypoint classifier's CPU (no pose stage), and what they test does not depend on the model.
The default model, the keypoint classifier, has its own tests (test_keypoints, test_default_model).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from support import IMAGENET, SHARED, run_cli


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not (SHARED / "clips.csv").exists():
        pytest.skip(f"real data not found at {SHARED}")
    return SHARED


@pytest.fixture(scope="session")
def rendered(tmp_path_factory) -> Path:
    """A small set of rendered clips of every kind (deterministic), shared by the tests."""
    from homegym.train.synth import render_clip
    from homegym.train.synth.manifest import write_manifest

    out = tmp_path_factory.mktemp("rendered")
    kinds = ["pushup", "squat", "walk", "kneel", "pushup", "squat", "stretch", "lie", "empty", "stand"]
    results = [render_clip(out, k, 100 + i, duration=6.0, fps=15.0, size=(224, 168)) for i, k in enumerate(kinds)]
    write_manifest(out / "clips.csv", results)
    return out


# Rendered 10 s, 15 fps, 320x240 clips (``homegym synth --count 12 --seed 0 --fps 15 --size 320x240``) that the
# shipped image classifier counts exactly, by seed; seeds 1, 4 and 6 it miscounts. Checked 2026-11-29: re-pin
# these when that model changes (test_count checks every one).
IMAGE_MODEL_COUNTS = (0, 2, 3, 5, 7, 8, 9, 10, 11)


@pytest.fixture(scope="session")
def image_ir() -> Path:
    """The shipped image classifier (``daemon/models/image``): the service's tests run on it."""
    from homegym.daemon.classify.factory import IMAGE_MODEL_DIR

    return IMAGE_MODEL_DIR


@pytest.fixture(scope="session")
def image_clips(tmp_path_factory) -> Path:
    """Rendered clips the shipped image classifier counts right, with their manifest (clips.csv)."""
    from homegym.train.synth import render_clip
    from homegym.train.synth.manifest import write_manifest

    out = tmp_path_factory.mktemp("image_clips")
    kinds = ["pushup", "squat", "neither"]
    results = [render_clip(out, kinds[i % 3], i, duration=10.0, fps=15.0, size=(320, 240)) for i in IMAGE_MODEL_COUNTS]
    write_manifest(out / "clips.csv", results)
    return out


@pytest.fixture(scope="session")
def training_clips(tmp_path_factory) -> Path:
    """30 rendered clips, push-ups, squats and neither in turn."""
    from homegym.train.synth import render_clip
    from homegym.train.synth.manifest import write_manifest

    out = tmp_path_factory.mktemp("trainclips")
    kinds = ["pushup", "squat", "neither"]
    results = [render_clip(out, kinds[i % 3], 500 + i, duration=6.0, fps=15.0, size=(192, 144)) for i in range(30)]
    write_manifest(out / "clips.csv", results)
    return out


@pytest.fixture(scope="session")
def small_model(training_clips, tmp_path_factory, shared_data) -> tuple[Path, subprocess.CompletedProcess]:
    """A small model trained once by ``homegym train`` (ImageNet features at 96 px): the run's folder and output."""
    pytest.importorskip("tensorflow", reason="training needs the train extra (pip install -e '.[train]')")
    out = tmp_path_factory.mktemp("small_model")
    r = run_cli("train", "--kind", "image", str(training_clips), "-o", str(out), "--weights", str(IMAGENET), "--size", "96",
                "--epochs", "12", "--no-augment", "--stride", "2", "--seed", "1", "--cache", "none")
    assert r.returncode == 0, r.stderr[-2000:]
    return out, r


@pytest.fixture(scope="session")
def small_ir(small_model, tmp_path_factory) -> Path:
    """The small model converted to an FP32 IR by ``homegym convert``."""
    out = tmp_path_factory.mktemp("small_ir")
    r = run_cli("convert", str(small_model[0] / "model.keras"), "-o", str(out), "--cache-dir", str(out / "cache"))
    assert r.returncode == 0, r.stderr[-2500:]
    return out


@pytest.fixture(scope="session")
def live_clips(tmp_path_factory) -> Path:
    """For the live page: the README's clip (3 push-ups the default model counts 3 of), a standing figure, and the
    same with the bottom of every frame cut off (the feet out of frame), 10 s each; a 20 s small one for HTTP."""
    from support import crop_bottom

    from homegym.train.synth import render_clip

    out = tmp_path_factory.mktemp("live_clips")
    render_clip(out, "pushup", 0, name="pushup")  # = homegym synth demo --count 1 --kinds pushup
    render_clip(out, "stand", 2, name="stand")
    crop_bottom(out / "stand.mp4", out / "feet_cut.mp4", 0.86)
    render_clip(out, "stand", 3, duration=20.0, fps=15.0, size=(320, 240), name="long")
    return out


# Tests that share an expensive session fixture run on one xdist worker (``--dist loadgroup``), so it is built once.
SHARED_FIXTURE_GROUPS = {"small_model": "small-image-model", "small_ir": "small-image-model", "keypoint_run": "small-keypoint-model"}


def pytest_collection_modifyitems(config, items) -> None:
    for item in items:
        group = next((g for name, g in SHARED_FIXTURE_GROUPS.items() if name in getattr(item, "fixturenames", ())), None)
        if group is not None:
            item.add_marker(pytest.mark.xdist_group(group))
