"""Shared fixtures: rendered clips (made once per session) and the real data beside the project."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("HOMEGYM_SHARED_DATA", ROOT.parent / "shared" / "data"))
IMAGENET = SHARED / "weights" / "mobilenet_v2_1.0_no_top_imagenet.weights.h5"


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
    out = tmp_path_factory.mktemp("small_model")
    r = run_cli("train", str(training_clips), "-o", str(out), "--weights", str(IMAGENET), "--size", "96",
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


def learned_clips(small_model, training_clips) -> list[dict]:
    """The manifest rows of the rendered clips the small model trained on and learned (>= 97 % of frames).

    The small model learns these clips, not rendered figures in general (about half its
    held-out frames are right, like the seed's recipe on real people). Tests of the chain —
    decoding, the ring, the IR's baked-in preprocessing, batching, voting, counting — use
    them, where the classifier is right; how well a model generalises is the default-model
    issue's figure.
    """
    import csv
    import json

    rep = json.loads((small_model[0] / "report.json").read_text())
    rows = {r["file"][:-4]: r for r in csv.DictReader((training_clips / "clips.csv").open())}
    return [dict(rows[n], name=n) for n, c in rep["per_clip"].items() if c["split"] == "train" and c["accuracy"] >= 0.97]


def one_line_error(r: subprocess.CompletedProcess) -> str:
    """The command failed with exactly one error line (log lines aside) and no traceback; returns it."""
    assert r.returncode != 0
    lines = [line for line in r.stderr.splitlines() if line.strip() and not line.startswith(("INFO", "WARNING"))]
    assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr[-2000:]
    return lines[0]


def run_cli(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run the installed ``homegym`` command the way a user does."""
    return subprocess.run([sys.executable, "-m", "homegym.cli", *args], capture_output=True, text=True, timeout=timeout)
