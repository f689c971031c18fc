"""The pose stage against MediaPipe's own Python solution, frame by frame, on real clips.

Two figures per clip (issue: pose stage): of the frames where MediaPipe finds a person, the share
where the stage finds one too; and on frames both find, the median distance between the same
landmarks (all 33, in pixels of the frame) in torso lengths (MediaPipe's shoulders' centre to
hips' centre on that frame). MediaPipe runs in its own venv (``scripts/pose_reference_venv.sh``),
by path, on every frame of the clip as decoded; the stage runs here on the same frames.

``same_canvas`` also gives MediaPipe the stage's own letterboxed canvas and measures MediaPipe against
itself on the decoded frames: the error of the same estimator when only the resampling changes, the
metric's floor on that clip (docs/pose.md: on front views the torso is a few pixels long and the
tracking diverges from the smallest difference).
"""

from __future__ import annotations

import csv
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from homegym.core.errors import UserError

REFERENCE = Path(__file__).with_name("pose_reference.py")
FOUND_GOAL = 0.98
ERROR_GOAL = 0.05  # torso lengths


@dataclass(frozen=True)
class ClipParity:
    clip: str
    view: str
    frames: int
    reference_found: int
    both_found: int
    stage_found: int
    median_error: float  # torso lengths, over every landmark of the frames both find
    p90_error: float
    stage_ms: float  # the stage's own time a frame here
    reference_ms: float  # MediaPipe's
    canvas_error: float | None = None  # MediaPipe on the stage's canvas against MediaPipe on the frames (same_canvas)

    @property
    def found_share(self) -> float:
        return self.both_found / self.reference_found if self.reference_found else 1.0


def compare(ours: dict, ref: dict) -> tuple[int, int, int, np.ndarray]:
    """(reference found, both found, stage found, per-landmark errors in torso lengths on frames both find)."""
    if not np.array_equal(ours["frame"], ref["frame"]):
        raise UserError("the two keypoint files are not of the same frames")
    w, h = float(ref["width"]), float(ref["height"])
    a, b = ours["found"].astype(bool), ref["found"].astype(bool)
    both = a & b
    scale = np.array([w, h], np.float32)
    pa, pb = ours["landmarks"][both, :, :2] * scale, ref["landmarks"][both, :, :2] * scale
    torso = np.linalg.norm(pb[:, [11, 12]].mean(1) - pb[:, [23, 24]].mean(1), axis=1)
    err = np.linalg.norm(pa - pb, axis=2) / np.maximum(torso, 1e-6)[:, None]
    return int(b.sum()), int(both.sum()), int(a.sum()), err


COMPLEXITY = {"lite": 0, "full": 1, "heavy": 2}  # MediaPipe's model_complexity of each landmark model


def run_reference(python: Path, video: Path, out: Path, letterbox: int = 0, frames: int = 0, stride: int = 1,
                  model: str = "full") -> float:
    """MediaPipe over ``video`` (its first ``frames``; 0: all) into ``out``; returns its seconds a frame (decoding excluded)."""
    try:
        r = subprocess.run([str(python), str(REFERENCE), str(video), str(out), "--letterbox", str(letterbox), "--frames",
                            str(frames), "--stride", str(stride), "--model-complexity", str(COMPLEXITY[model])],
                           capture_output=True, text=True, timeout=3600)
    except FileNotFoundError:
        raise UserError(f"no Python at {python}: build the reference venv with scripts/pose_reference_venv.sh") from None
    if r.returncode != 0:
        tail = (r.stderr.strip().splitlines() or ["no output"])[-1]
        raise UserError(f"the MediaPipe reference failed on {video}: {tail}")
    fields = dict(zip(*[iter(r.stdout.split())] * 2))
    n = float(fields.get("frames", 0))
    return float(fields.get("busy_s", 0)) / n if n else 0.0


def clip_parity(video: Path, view: str, tracker, frame_size: int, python: Path, same_canvas: bool = False, stride: int = 1,
                model: str = "full") -> ClipParity:
    """One clip, the stage's ``tracker`` starting afresh; both see every ``stride``-th frame; MediaPipe runs ``model``."""
    from homegym.daemon.pose.record import record

    with tempfile.TemporaryDirectory() as tmp:
        ref_path = Path(tmp) / "ref.npz"
        ref_s = run_reference(python, video, ref_path, stride=stride, model=model)
        ref = dict(np.load(ref_path))
        canvas_ref = None
        if same_canvas:
            run_reference(python, video, Path(tmp) / "canvas.npz", frame_size, stride=stride, model=model)
            canvas_ref = dict(np.load(Path(tmp) / "canvas.npz"))
    tracker.reset()
    track = record(video, tracker, frame_size, stride)
    ours = {"frame": track.frame, "found": track.found, "landmarks": track.landmarks}
    rf, both, sf, err = compare(ours, ref)
    flat = err.ravel()
    canvas_error = None
    if canvas_ref is not None:
        canvas_err = compare(canvas_ref, ref)[3].ravel()
        canvas_error = float(np.median(canvas_err)) if canvas_err.size else float("nan")
    return ClipParity(video.name, view, len(track.frame), rf, both, sf, float(np.median(flat)) if flat.size else float("nan"),
                      float(np.percentile(flat, 90)) if flat.size else float("nan"), track.busy_s / len(track.frame) * 1000,
                      ref_s * 1000, canvas_error)


def clips_of(manifest: Path, names: list[str] | None = None, limit: int | None = None) -> list[tuple[Path, str]]:
    """(video, view) of the manifest's clips: the named ones, or the first ``limit``."""
    if not manifest.exists():
        raise UserError(f"manifest not found: {manifest}")
    with manifest.open() as f:
        rows = list(csv.DictReader(f))
    if names:
        rows = [r for r in rows if Path(r["file"]).stem in names]
    rows = rows[:limit] if limit else rows
    return [(manifest.parent / r["file"], r.get("view", "")) for r in rows]


def table(results: list[ClipParity]) -> str:
    lines = ["| clip | view | frames | MediaPipe finds | stage finds too | median error (torso) | p90 | MediaPipe vs itself | stage ms | "
             "MediaPipe ms |", "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in results:
        canvas = "–" if r.canvas_error is None else f"{r.canvas_error:.4f}"
        lines.append(f"| {r.clip} | {r.view} | {r.frames} | {r.reference_found} | {r.found_share:.1%} | {r.median_error:.4f} | "
                     f"{r.p90_error:.3f} | {canvas} | {r.stage_ms:.1f} | {r.reference_ms:.1f} |")
    ref = sum(r.reference_found for r in results)
    both = sum(r.both_found for r in results)
    meds = [r.median_error for r in results if r.both_found]
    lines.append(f"\nall {len(results)} clips: the stage finds a person on {both / max(ref, 1):.2%} of the {ref} frames where MediaPipe "
                 f"does (goal {FOUND_GOAL:.0%}); median of the clips' median errors {np.median(meds) if meds else float('nan'):.4f} "
                 f"torso lengths, worst {max(meds) if meds else float('nan'):.4f} (goal {ERROR_GOAL})")
    return "\n".join(lines)
