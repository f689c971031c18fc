"""The rendered clips' manifest, in the format of ../shared/data/clips.csv, so eval and
``label --from-reps`` read rendered and real clips alike."""

from __future__ import annotations

import csv
from pathlib import Path

from .clip import ClipResult

COLUMNS = ["file", "exercise", "reps", "rep_bottom_frames", "confidence", "split", "frames", "fps", "notes"]


def write_manifest(path: Path, clips: list[ClipResult]) -> None:
    """Write (or update, keyed by file) the manifest beside the clips."""
    rows: dict[str, dict[str, str]] = {}
    if path.exists():
        with path.open(newline="") as f:
            rows = {r["file"]: r for r in csv.DictReader(f)}
    for c in clips:
        assert c.video is not None, "a rendered clip has its video"
        rows[c.video.name] = {
            "file": c.video.name,
            "exercise": c.exercise,
            "reps": str(len(c.reps)),
            "rep_bottom_frames": ";".join(str(r.bottom_frame) for r in c.reps),
            "confidence": "exact",
            "split": "",
            "frames": str(c.frames),
            "fps": f"{c.fps:g}",
            "notes": f"homegym synth {c.activity} seed {c.seed}" + (f"; {len(c.partial_reps)} partial reps" if c.partial_reps else ""),
        }
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS, extrasaction="ignore")
        w.writeheader()
        for r in sorted(rows.values(), key=lambda r: r["file"]):
            w.writerow(r)
    tmp.replace(path)
