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


def run_cli(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run the installed ``homegym`` command the way a user does."""
    return subprocess.run([sys.executable, "-m", "homegym.cli", *args], capture_output=True, text=True, timeout=timeout)
