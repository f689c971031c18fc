"""``homegym tune``: choose the voting or periodicity settings on annotated clips — the train split, never the eval one.

The model runs once per clip, exactly as ``homegym count`` runs it; the probabilities
and pooled features of every inferred frame are then replayed through folding,
periodicity, voting and counting
(``daemon.chain.replay``, the pipeline's own per-frame chain) for each candidate
setting, which costs milliseconds where a model run costs seconds. Candidates within
``FALSE_REP_BOUND`` come first, each group ranked by MAE, then OBO, then fewer false
reps on clips of other movements; the best is printed as a config.yaml fragment.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import logging
import math
from pathlib import Path

import numpy as np

from homegym.core import manifest
from homegym.core.errors import UserError

from . import evaluate

log = logging.getLogger(__name__)

# The voting keys tried, each with the values tried; every combination with exit <= enter.
GRID: dict[str, tuple[float, ...]] = {
    "ema_alpha": (0.35, 0.5, 0.7),
    "min_dwell": (1, 2, 3),
    "enter": (0.5, 0.6, 0.7),
    "exit": (0.3, 0.4),
    "exercise_alpha": (0.03, 0.1),
}
# The periodicity keys (daemon/counting/periodicity.py), tried with the voting as configured.
PERIODICITY_GRID: dict[str, tuple[float, ...]] = {
    "window_s": (4, 6, 8),
    "min_agreement": (0.5, 0.6, 0.7, 0.8),
    "sharpness": (2, 4, 8),
    "min_phase_swing": (0.05, 0.1, 0.2),
}
# The counter's keys (daemon/counting/counter.py), tried with the voting as configured.
COUNTER_GRID: dict[str, tuple[float, ...]] = {
    "bottom_first": (False, True),
    "min_rep_s": (0.2, 0.3, 0.5),
    "partial_min": (0.3, 0.5),
}
# Each exercise's own counter keys (counter.per_exercise), tried on its clips and the clips of other movements. No
# max_rep_s under the section's 10 s: a slow rep or a hold at the turn (a curl's) is a user's to make, whatever the
# clips here do.
EXERCISE_GRID: dict[str, tuple[float, ...]] = {
    "min_rep_s": (0.1, 0.2, 0.3, 0.5),
    "max_rep_s": (10.0, 15.0),
    "min_travel_deg": (0.0, 15.0, 30.0, 45.0, 60.0),  # needs the reps measured: recordings with their poses (--tracks with --oof)
    "min_legs_deg": (0.0, 15.0),  # likewise
    "min_set_reps": (1, 2),
}
GRIDS = {"voting": GRID, "periodicity": PERIODICITY_GRID, "counter": COUNTER_GRID}  # config section -> its grid
# False reps per clip of other movements a setting may count before any setting within it ranks
# first, whatever its MAE: a counter that counts curls as squats is not one a user keeps. Without
# the bound, settings that let the swing claim curls won on MAE (2.5 false reps per clip).
FALSE_REP_BOUND = 1.0


@dataclasses.dataclass
class Candidate:
    values: dict[str, float]
    report: evaluate.Report

    def rank(self) -> tuple[bool, float, float, float]:
        r = self.report
        false = r.false_reps_per_other_clip or 0.0
        return (false > FALSE_REP_BOUND, math.inf if r.mae is None else r.mae, -(r.obo or 0.0), false)


def candidates(grid: dict[str, tuple[float, ...]] = GRID) -> list[dict[str, float]]:
    keys = list(grid)
    out = [dict(zip(keys, combo)) for combo in itertools.product(*grid.values())]
    return [c for c in out if c.get("exit", 0) <= c.get("enter", 1)]


def score(recordings: list[tuple[manifest.ClipRow, evaluate.Recording]], cfg) -> evaluate.Report:
    """The eval figures (counts only) of ``cfg`` on recorded clips."""
    from homegym.daemon.counting.chain import replay

    clips = []
    for row, rec in recordings:
        row = row.scored_for(rec.exercises)
        counter = replay(rec.labels, cfg, rec.frames, rec.landmarks)
        clips.append(evaluate.ClipResult(row.path.name, row.exercise, row.reps or 0, counter.total,
                                         dict(counter.by_exercise), len(rec.frames)))
    return evaluate.summarise(clips)


def held_back(rows: list[manifest.ClipRow], cfg, model: Path | None) -> list[manifest.ClipRow]:
    """The clips the model's training held back from fitting (its validation clips, from the
    train_report.json beside the IR). Tuned on clips it fitted, the voting learns to trust a model
    that is 87 % right per frame there and about half as right on people it never saw."""
    from homegym.daemon.classify.factory import resolve_model_path

    report_path = resolve_model_path(str(model) if model else cfg.model.path, cfg.model.precision).parent / "train_report.json"
    try:
        val = set(json.loads(report_path.read_text())["split"]["clips"].get("val", []))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        raise UserError(f"--held-back needs the model's training report with its split: {report_path} not found or not one") from None
    kept = [r for r in rows if r.name in val]
    if not kept:
        raise UserError(f"none of the manifest's clips is among the model's validation clips ({report_path})")
    return kept


def oof_recordings(rows: list[manifest.ClipRow], oof: Path,
                   tracks: Path | None = None) -> list[tuple[manifest.ClipRow, evaluate.Recording]]:
    """Recordings from a keypoint classifier's out-of-fold probabilities (``train --kind keypoints`` writes oof.npz
    beside its model): each clip as a model that never saw its source labelled it, so the voting is chosen on
    figures like a stranger's, without running the pose stage again. ``tracks``: the keypoints the probabilities
    came from (``homegym poses``), so the counter measures each rep as the daemon would."""
    from homegym.core.labels import LabelSet
    from homegym.train.keypoints.data import LABELS  # numpy only: no TensorFlow

    try:
        with np.load(oof) as z:
            data = {k: z[k] for k in z.files}
    except (OSError, ValueError) as e:
        raise UserError(f"cannot read {oof}: {e}") from None
    labels = tuple(str(x) for x in data["labels"]) if "labels" in data else LABELS  # files before the key: the two-exercise set
    exercises = LabelSet.of(labels).exercises
    out = []
    for row in rows:
        if f"{row.name}/probs" not in data:
            continue  # a clip training skipped (its rep marks do not match its count)
        cols = zip(data[f"{row.name}/frame"], data[f"{row.name}/t"], data[f"{row.name}/probs"])
        frames: list[tuple[int, float, np.ndarray, np.ndarray | None]] = [(int(f), float(t), p, None) for f, t, p in cols]
        poses = _poses(tracks, row, [f[0] for f in frames]) if tracks is not None else []
        out.append((row, evaluate.Recording(None, labels, exercises, frames, poses)))
    if not out:
        raise UserError(f"{oof} holds none of the manifest's clips")
    return out


def _poses(tracks: Path, row: manifest.ClipRow, frames: list[int]) -> list[np.ndarray | None]:
    """The clip's pose at each of ``frames`` from its keypoint file, as the form meter takes them (pixels: the angles
    of the stage's square canvas); None where nobody was found or the file lacks the frame."""
    from homegym.core.pose_track import PoseTrack, track_path

    path = track_path([tracks], row.name)
    if not path.exists():
        raise UserError(f"--tracks: no keypoints for {row.path.name} in {tracks} (homegym poses MANIFEST -o {tracks})")
    track = PoseTrack.load(path)  # a file it cannot read: its own one-line error
    lm = np.concatenate([track.xy, track.landmarks[..., 2:]], axis=-1)
    at = {int(f): i for i, f in enumerate(track.frame)}
    return [lm[at[f]] if f in at and track.found[at[f]] else None for f in frames]


def recordings(manifest_path: Path, cfg, model: Path | None, split: str | None, only_held_back: bool = False,
               oof: Path | None = None, tracks: Path | None = None) -> list[tuple[manifest.ClipRow, evaluate.Recording]]:
    """The clips recorded once: from out-of-fold probabilities (with ``tracks``, their poses), or the model run over
    each (its poses kept)."""
    rows = evaluate.rows_of(manifest_path, split)
    if oof is not None:
        return oof_recordings(rows, oof, tracks)
    if only_held_back:
        rows = held_back(rows, cfg, model)
    out = []
    for i, row in enumerate(rows, 1):
        out.append((row, evaluate.record_clip(row, cfg, model, poses=True)))
        log.info("[%d/%d] %s: %d frames recorded", i, len(rows), row.path.name, len(out[-1][1].frames))
    return out


def run(manifest_path: Path, cfg, model: Path | None, split: str | None, only_held_back: bool = False,
        section: str = "voting", oof: Path | None = None, tracks: Path | None = None) -> tuple[evaluate.Report, list[Candidate]]:
    """The given config's own figures, and every candidate's of the section's grid, best first."""
    recorded = recordings(manifest_path, cfg, model, split, only_held_back, oof, tracks)
    return score(recorded, cfg), ranked_grid(recorded, cfg, section)


def ranked_grid(recordings: list[tuple[manifest.ClipRow, evaluate.Recording]], cfg, section: str,
                grid: dict[str, tuple[float, ...]] | None = None) -> list[Candidate]:
    """Every candidate of the section's grid (or ``grid``: other values of its keys) on recorded clips, best first."""
    return sorted((Candidate(v, score(recordings, cfg.with_values(section, **v))) for v in candidates(grid or GRIDS[section])),
                  key=Candidate.rank)


def reps_wrong(report: evaluate.Report) -> int:
    """Reps missed and reps counted too many, over every clip: a false rep on a clip of other movements weighs what a
    missed one does (MAE alone weighs neither against the other)."""
    return sum(abs(c.counted - c.true) for c in report.clips)


def per_exercise(recordings: list[tuple[manifest.ClipRow, evaluate.Recording]], cfg) -> dict[str, Candidate]:
    """For each exercise the model counts, the best of ``EXERCISE_GRID`` as its counter.per_exercise, ranked on its own
    clips and the clips of other movements (the other exercises' clips keep the config as given): fewest reps wrong,
    then MAE, then OBO."""
    given = {k: o.model_dump() for k, o in cfg.counter.per_exercise.items()}
    out = {}
    for ex in recordings[0][1].exercises if recordings else ():
        mine = [(r, rec) for r, rec in recordings if r.scored_for(rec.exercises).exercise in (ex, manifest.OTHER)]
        if any(r.scored_for(rec.exercises).exercise == ex for r, rec in mine):
            tried = [Candidate(v, score(mine, cfg.with_values("counter", per_exercise={**given, ex: v})))
                     for v in candidates(EXERCISE_GRID)]
            out[ex] = min(tried, key=lambda c: (reps_wrong(c.report), c.rank()[1:]))
    return out


def per_exercise_markdown(current: evaluate.Report, best: dict[str, Candidate], cfg) -> str:
    """Each exercise's best settings and figures, and the config.yaml fragment of those that differ from the section's."""
    lines = ["| exercise | " + " | ".join(EXERCISE_GRID) + " | reps wrong | MAE | OBO | false reps/other clip | as given: MAE |",
             "|" + "---|" * (len(EXERCISE_GRID) + 6)]
    fragment = []
    for ex, c in best.items():
        r, mine = c.report, current.by_exercise.get(ex)
        lines.append(f"| {ex} | " + " | ".join(_value(c.values[k]) for k in EXERCISE_GRID) + f" | {reps_wrong(r)} | {_fmt(r.mae)} | "
                     f"{_fmt(r.obo, True)} | {_fmt(r.false_reps_per_other_clip)} | {_fmt(mine.mae if mine else None)} |")
        differ = {k: v for k, v in c.values.items() if v != cfg.counter.get(None, k)}
        if differ:
            fragment.append(f"    {ex}: {{{', '.join(f'{k}: {_value(v)}' for k, v in differ.items())}}}")
    lines += ["", "best, for config.yaml:", "", "counter:", "  per_exercise:" + ("" if fragment else " {}")] + fragment
    return "\n".join(lines)


def _value(v: float) -> str:
    """A grid value as config.yaml writes it."""
    return ("true" if v else "false") if isinstance(v, bool) else f"{v:g}"


def _fmt(v: float | None, pct: bool = False) -> str:
    if v is None:
        return "–"
    return f"{100 * v:.1f}%" if pct else f"{v:.3f}"


def markdown(current: evaluate.Report, ranked: list[Candidate], top: int, section: str = "voting") -> str:
    keys = list(ranked[0].values) if ranked else []
    lines = ["| " + " | ".join(keys) + " | MAE | OBO | exact | false reps/other clip |",
             "|" + "---|" * (len(keys) + 4)]
    for c in ranked[:top]:
        r = c.report
        lines.append("| " + " | ".join(_value(c.values[k]) for k in keys) +
                     f" | {_fmt(r.mae)} | {_fmt(r.obo, True)} | {_fmt(r.exact, True)} | {_fmt(r.false_reps_per_other_clip)} |")
    lines += ["", f"the config as given: MAE {_fmt(current.mae)}, OBO {_fmt(current.obo, True)}, exact {_fmt(current.exact, True)}, "
              f"false reps/other clip {_fmt(current.false_reps_per_other_clip)}"]
    if ranked:
        lines += ["", "best, for config.yaml:", "", f"{section}:"] + [f"  {k}: {_value(v)}" for k, v in ranked[0].values.items()]
    return "\n".join(lines)


def to_json(current: evaluate.Report, ranked: list[Candidate], section: str = "voting") -> str:
    def figures(r: evaluate.Report) -> dict:
        return {k: getattr(r, k) for k in ("mae", "obo", "exact", "false_reps_per_other_clip")}

    return json.dumps({"current": figures(current), "ranked": [{section: c.values, **figures(c.report)} for c in ranked]}, indent=1)
