"""Helpers the test modules share (fixtures live in conftest.py): paths, the CLI as a user runs it, error checks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("HOMEGYM_SHARED_DATA", ROOT.parent / "shared" / "data"))
IMAGENET = SHARED / "weights" / "mobilenet_v2_1.0_no_top_imagenet.weights.h5"


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
