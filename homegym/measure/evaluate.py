"""``homegym eval``: the counting pipeline, exactly as ``homegym count`` runs it, over annotated clips.

Per clip: true and counted reps, and frame accuracy where per-frame labels exist
(a labels file beside the clip, else derived from the manifest's rep marks by the
same rule as ``label --from-reps``). Overall, over clips with reps: MAE (mean of
|counted - true| / true), OBO (share within ±1) and the exact share; over clips of
other movements: false reps per clip.

A model is scored on the exercises it knows: a clip of a known exercise it lacks is scored
as a clip of other movements (``ClipRow.scored_for``), its counts and its frame labels alike.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from homegym.core import labelfile, manifest
from homegym.core.errors import UserError

if TYPE_CHECKING:
    from homegym.daemon.counting.events import Event
    from homegym.daemon.pipeline.health import Summary

log = logging.getLogger(__name__)


@dataclass
class ClipResult:
    clip: str
    exercise: str
    true: int
    counted: int
    by_exercise: dict[str, int]
    frames: int
    frame_acc: float | None = None  # over labelled frames
    labelled: int = 0
    shows: str | None = None  # the exercise a clip scored as ``other`` shows (one the model does not know)
    offline: int | None = None  # with --live: the reps ``homegym count`` counts on the clip


@dataclass
class CountFigures:
    """Counting over a set of clips with reps: mean |counted - true| / true, the share within one rep, the exact share."""

    clips: int
    mae: float
    obo: float
    exact: float

    @classmethod
    def of(cls, clips: list[ClipResult]) -> CountFigures:
        return cls(len(clips), float(np.mean([abs(c.counted - c.true) / c.true for c in clips])),
                   float(np.mean([abs(c.counted - c.true) <= 1 for c in clips])), float(np.mean([c.counted == c.true for c in clips])))


@dataclass
class Report:
    clips: list[ClipResult] = field(default_factory=list)
    mae: float | None = None
    obo: float | None = None
    exact: float | None = None
    false_reps_per_other_clip: float | None = None
    frame_acc: float | None = None
    labelled_frames: int = 0
    notes: list[str] = field(default_factory=list)  # manifest rows left out, and why
    by_exercise: dict[str, CountFigures] = field(default_factory=dict)  # each exercise's own figures (its rep clips)
    reps_given_to: dict[str, dict[str, int]] = field(default_factory=dict)  # clip's exercise -> exercise its reps were counted as
    right_exercise: float | None = None  # share of the reps counted on rep clips that went to the clip's exercise
    live: str | None = None  # counted live (LIVE_MODES), each clip against its offline count
    live_agrees: float | None = None  # share of clips counted live as offline
    offline_mae: float | None = None  # the rep clips' MAE offline (``mae`` is live's)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1)


def _frame_labels(row: manifest.ClipRow, poses: Path | None, tracks: Path | None,
                  known: tuple[str, ...]) -> labelfile.LabelFile | None:
    """A labels file beside the clip, else the label rule on the clip's keypoints (``tracks``) or its trace (``poses``)."""
    beside = labelfile.labels_path_for(row.path)
    if beside.exists() and row.shows is None:  # a clip scored as other is labelled as other clips are
        return labelfile.read(beside)
    from homegym.train.from_reps import derive  # numpy only: no TensorFlow

    derived = derive([row], None if tracks else poses, known=known, tracks=[tracks] if tracks else None)
    return derived[0][1] if derived else None


@dataclass
class Recording:
    """A clip through the pipeline: its summary, the model's labels, and each inferred frame's
    (frame id, time, class probabilities, pooled features or None), which ``homegym tune`` replays."""

    summary: Summary | None  # None: recorded without the pipeline (a keypoint classifier's out-of-fold probabilities)
    labels: tuple[str, ...]
    exercises: tuple[str, ...]  # what the model counts: the clips are scored on these
    frames: list[tuple[int, float, np.ndarray, np.ndarray | None]]
    landmarks: list[np.ndarray | None] = field(default_factory=list)  # per frame (record_clip's poses), the stage's (33, 4) or None
    events: list[Event] = field(default_factory=list)  # what the pipeline emitted, in order


LIVE_MODES = {
    "media": "the daemon's loop and live throttles, frames released on the media clock, none dropped (deterministic)",
    "realtime": "the clip played in real time as a camera (source.realtime): frames dropped where the box falls behind",
}


def record_clip(row: manifest.ClipRow, cfg, model: Path | None, live: str | None = None, poses: bool = False) -> Recording:
    """The clip through the pipeline: offline as ``homegym count`` (``live`` None), or live (a key of LIVE_MODES);
    ``poses``: keep each frame's landmarks too (form-check reads them; eval and tune need not copy them)."""
    from homegym.daemon.config.settings import for_file
    from homegym.daemon.pipeline.observer import FrameView, Observer
    from homegym.daemon.pipeline.pipeline import Pipeline

    frames: list[tuple[int, float, np.ndarray, np.ndarray | None]] = []
    landmarks: list[np.ndarray | None] = []
    events: list[Event] = []

    class Recorder(Observer):
        def on_frame(self, f: FrameView) -> None:
            frames.append((f.frame_id, f.t, f.probs, f.feats))
            if poses:
                landmarks.append(f.pose.landmarks.copy() if f.pose is not None and f.pose.found else None)

        def on_event(self, e: Event) -> None:
            events.append(e)

    run_cfg = for_file(cfg, row.path)
    if live == "realtime":
        run_cfg = run_cfg.with_values("source", realtime=True)
    pipe = Pipeline.open(run_cfg, model, Recorder(), live=live == "media")
    s = pipe.run()
    return Recording(s, pipe.classifier.labels, pipe.chain.labels.exercises, frames, landmarks, events)


def evaluate_clip(row: manifest.ClipRow, cfg, model: Path | None, poses: Path | None, tracks: Path | None = None,
                  live: str | None = None) -> ClipResult:
    """One clip's counts and frame accuracy; with ``live``, counted live, and offline beside it."""
    rec = record_clip(row, cfg, model, live)
    s = rec.summary
    assert s is not None  # record_clip ran the pipeline
    row = row.scored_for(rec.exercises)
    res = ClipResult(row.path.name, row.exercise, row.reps or 0, s.total, dict(s.by_exercise), s.frames, shows=row.shows)
    if live:
        offline = record_clip(row, cfg, model).summary
        assert offline is not None
        res.offline = offline.total
    truth = frame_truth(row, rec, poses, tracks)
    if truth is not None:
        pred = np.stack([f[2] for f in rec.frames]).argmax(1)
        mask = truth >= 0
        res.labelled = int(mask.sum())
        res.frame_acc = float((pred[mask] == truth[mask]).mean()) if res.labelled else None
    return res


def frame_truth(row: manifest.ClipRow, rec: Recording, poses: Path | None, tracks: Path | None = None) -> np.ndarray | None:
    """The label index of each recorded (inferred) frame, -1 where unlabelled, ``len(labels)`` for a label
    the model does not have; None without per-frame labels."""
    lf = _frame_labels(row, poses, tracks, rec.exercises)
    if lf is None or not rec.frames:
        return None
    ids = np.array([f[0] for f in rec.frames], np.int64)  # the inferred frames (pipeline.infer_fps skips some)
    index = {lab: i for i, lab in enumerate(rec.labels)} | _unknown_labels(lf, rec.labels)
    return lf.per_frame(int(ids.max()) + 1, index)[ids]


def _unknown_labels(lf: labelfile.LabelFile, labels: tuple[str, ...]) -> dict[str, int]:
    """Labels the model does not have (another exercise) count as wrong, never as right."""
    return {lab: len(labels) for lab in lf.labels if lab not in labels}


def summarise(clips: list[ClipResult]) -> Report:
    r = Report(clips=clips)
    rep_clips = [c for c in clips if c.exercise != manifest.OTHER and c.true > 0]
    if rep_clips:
        whole = CountFigures.of(rep_clips)
        r.mae, r.obo, r.exact = whole.mae, whole.obo, whole.exact
        r.by_exercise = {ex: CountFigures.of([c for c in rep_clips if c.exercise == ex])
                         for ex in sorted({c.exercise for c in rep_clips})}
    for c in clips:
        given = r.reps_given_to.setdefault(c.exercise, {})
        for ex, n in c.by_exercise.items():
            if n:
                given[ex] = given.get(ex, 0) + n
    counted = sum(n for ex, given in r.reps_given_to.items() if ex != manifest.OTHER for n in given.values())
    if counted:
        r.right_exercise = sum(given.get(ex, 0) for ex, given in r.reps_given_to.items()) / counted
    others = [c for c in clips if c.exercise == manifest.OTHER]
    if others:
        r.false_reps_per_other_clip = float(np.mean([c.counted for c in others]))
    paired = [c for c in clips if c.offline is not None]
    if paired:
        r.live_agrees = float(np.mean([c.counted == c.offline for c in paired]))
        offline_reps = [c for c in rep_clips if c.offline is not None]
        if offline_reps:
            r.offline_mae = float(np.mean([abs(c.offline - c.true) / c.true for c in offline_reps if c.offline is not None]))
    labelled = [(c.frame_acc, c.labelled) for c in clips if c.frame_acc is not None]
    r.labelled_frames = sum(n for _, n in labelled)
    if r.labelled_frames:
        r.frame_acc = sum(acc * n for acc, n in labelled) / r.labelled_frames
    return r


def _num(v: float | None, fmt: str) -> str:
    return "–" if v is None else fmt.format(v)


def _pct(v: float | None) -> str:
    return "–" if v is None else f"{100 * v:.1f}%"


def markdown(r: Report) -> str:
    live = r.live is not None
    lines = [f"| clip | exercise | true | counted{' live | offline' if live else ''} | frame acc (frames) |",
             f"|---|---|---|---|{'---|' if live else ''}---|"]
    for c in r.clips:
        shown = f"{c.exercise} ({c.shows}: not the model's)" if c.shows else c.exercise
        beside = f" | {c.offline}" if live else ""
        lines.append(f"| {c.clip} | {shown} | {c.true} | {c.counted}{beside} | {_pct(c.frame_acc)} ({c.labelled}) |")
    lines += ["", "| metric | value |", "|---|---|",
              f"| MAE (rep clips) | {_num(r.mae, '{:.3f}')} |",
              f"| OBO (within ±1) | {_pct(r.obo)} |",
              f"| exact | {_pct(r.exact)} |",
              f"| false reps per clip of other movements | {_num(r.false_reps_per_other_clip, '{:.2f}')} |",
              f"| frame accuracy | {_pct(r.frame_acc)} ({r.labelled_frames} frames) |",
              f"| reps counted as the clip's exercise | {_pct(r.right_exercise)} |"]
    if live:
        lines += [f"| counted live ({r.live}) as offline | {_pct(r.live_agrees)} of clips |",
                  f"| MAE offline (the MAE above is live's) | {_num(r.offline_mae, '{:.3f}')} |"]
    if r.by_exercise:
        lines += ["", "| exercise | rep clips | MAE | OBO | exact |", "|---|---|---|---|---|"]
        lines += [f"| {ex} | {f.clips} | {f.mae:.3f} | {_pct(f.obo)} | {_pct(f.exact)} |" for ex, f in r.by_exercise.items()]
    if any(r.reps_given_to.values()):
        lines += ["", "| clips of | reps counted as |", "|---|---|"]
        lines += [f"| {ex} | {', '.join(f'{to} {n}' for to, n in sorted(given.items()))} |"
                  for ex, given in sorted(r.reps_given_to.items()) if given]
    lines += ["", *(f"Note: {n}" for n in r.notes)] if r.notes else []
    return "\n".join(lines)


def chart(r: Report, out: Path) -> bool:
    """True counts against counted ones per clip; False (logged) where matplotlib is not installed."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log.warning("matplotlib is not installed: no chart (pip install matplotlib)")
        return False
    fig, ax = plt.subplots(figsize=(max(6, 0.45 * len(r.clips)), 4))
    x = np.arange(len(r.clips))
    ax.bar(x - 0.2, [c.true for c in r.clips], 0.4, label="true")
    ax.bar(x + 0.2, [c.counted for c in r.clips], 0.4, label="counted")
    ax.set_xticks(x, [c.clip.rsplit(".", 1)[0] for c in r.clips], rotation=70, ha="right", fontsize=7)
    ax.set_ylabel("reps")
    mae = "–" if r.mae is None else f"{r.mae:.2f}"
    ax.set_title(f"MAE {mae}, OBO {_pct(r.obo)}, frame acc {_pct(r.frame_acc)}")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return True


def rows_of(manifest_path: Path, split: str | None, notes: list[str] | None = None) -> list[manifest.ClipRow]:
    """The manifest's clips (of one split), each checked to exist; rows left out are added to ``notes``."""
    rows = manifest.read(manifest_path, notes)
    if split:
        rows = [r for r in rows if r.split == split]
    if not rows:
        raise UserError(f"{manifest_path}: no clips{f' in split {split!r}' if split else ''}")
    missing = [r.path for r in rows if not r.path.exists()]
    if missing:
        raise UserError(f"{manifest_path}: clip not found: {missing[0]}" + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""))
    return rows


def run(manifest_path: Path, cfg, model: Path | None, split: str | None, poses: Path | None,
        tracks: Path | None = None, live: str | None = None) -> Report:
    """``tracks``: the clips' keypoints (homegym poses), for frame truth by the label rule on them instead of the
    traces in ``poses`` (default: poses/ beside the manifest); ``live``: count live (LIVE_MODES), offline beside."""
    notes: list[str] = []
    rows = rows_of(manifest_path, split, notes)
    if poses is None and (manifest_path.parent / "poses").is_dir():
        poses = manifest_path.parent / "poses"
    results = []
    for i, row in enumerate(rows, 1):
        res = evaluate_clip(row, cfg, model, poses, tracks, live)
        log.info("[%d/%d] %s: true %d, counted %d%s, frame acc %s", i, len(rows), res.clip, res.true, res.counted,
                 f" live, {res.offline} offline" if live else "", _pct(res.frame_acc))
        results.append(res)
    report = summarise(results)
    report.notes, report.live = notes, live
    return report
