"""``homegym form-check``: the rep measures (daemon/counting/form.py) against ../shared/data, on every rep clip of an
exercise the model counts (a clip of one it lacks is scored as other, as ``homegym eval`` scores it, and left out).

Each clip runs through the pipeline exactly as ``homegym count`` runs it. Then, per exercise:

- **timing**: each counted rep is matched one to one with a hand-labelled turn point (``rep_bottom_frames``) within
  ``MATCH_S``, closest pairs first; the reps and turn points left unmatched are reported. The figure is |the rep's
  ``turn_t`` - the labelled frame's time|: median and 95th percentile.
- **angles**: where the clip has a MediaPipe trace (``poses/<clip>.json``), the joint's angle the rep reports at its
  turn against the trace's angle at the labelled frame (the elbow, the knee, ``hipang`` for sit-ups; jumping jacks'
  shoulder is not in the traces). Twice: the angle as the event reports it (the side seen better), and the pose
  stage's angle on the trace's side (the side whose visibility is the trace's) at the rep's turn.
- **full**: the share of hand-counted reps whose matched rep was flagged full under the config's form.full, and every
  clip under ``FULL_SHARE`` with what fell short.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from homegym.core import body, manifest
from homegym.core.errors import UserError

from . import evaluate

log = logging.getLogger(__name__)
MATCH_S = 1.0  # a rep and a labelled turn point further apart than this are not the same rep
FULL_SHARE = 0.8  # clips with fewer of their hand-counted reps flagged full are named
TRACE_FIELD = {"elbow": ("elbow", "ve"), "elbow_min": ("elbow", "ve"), "elbow_max": ("elbow", "ve"), "knee": ("knee", "vk"),
               "hipang": ("hipang", "vk")}  # the rep's angle -> the trace's angle and the visibility that grades its side
SIDE_GRADE = {"ve": body.SIDES["elbow"], "vk": body.SIDES["knee"]}  # the trace's visibility field -> the triples it grades


@dataclass
class RepMatch:
    clip: str
    exercise: str
    split: str
    label_frame: int
    dt: float  # the rep's turn_t minus the labelled frame's time
    full: bool | None
    short: list[str]
    unmeasured: str | None
    reported_deg: float | None = None  # the event's turn_deg
    side_deg: float | None = None  # the pose stage's angle on the trace's side at the rep's turn
    trace_deg: float | None = None  # the trace's angle at the labelled frame


@dataclass
class ClipForm:
    clip: str
    exercise: str
    split: str
    true: int
    counted: int
    matched: int
    unmatched_reps: int  # counted reps with no labelled turn point within MATCH_S
    unmatched_turns: int  # labelled turn points with no counted rep within MATCH_S
    untimed: int  # counted reps without a turn_t (unmeasured)
    full: int  # matched reps flagged full
    shortfalls: dict[str, int] = field(default_factory=dict)  # form.full key -> matched reps that missed it
    unmeasured: dict[str, int] = field(default_factory=dict)  # why a counted rep's full could not be told -> reps

    @property
    def full_share(self) -> float:
        return self.full / self.true if self.true else 0.0


@dataclass
class Figures:
    n: int
    median: float | None
    p95: float | None

    @classmethod
    def of(cls, values: Iterable[float]) -> Figures:
        a = np.abs(np.array(list(values), float))
        if not len(a):
            return cls(0, None, None)
        return cls(len(a), float(np.median(a)), float(np.percentile(a, 95)))


@dataclass
class ExerciseForm:
    timing: Figures
    reported_angle: Figures
    side_angle: Figures
    reps: int
    matched: int
    unmatched_reps: int
    unmatched_turns: int
    full_share: float


@dataclass
class FormReport:
    clips: list[ClipForm] = field(default_factory=list)
    reps: list[RepMatch] = field(default_factory=list)
    by_exercise: dict[str, ExerciseForm] = field(default_factory=dict)
    overall: ExerciseForm | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1)


def match(event_t: list[float], label_t: list[float], within: float = MATCH_S) -> list[tuple[int, int]]:
    """One to one, closest pairs first: (event index, label index) of each pair closer than ``within``."""
    pairs = sorted((abs(a - b), i, j) for i, a in enumerate(event_t) for j, b in enumerate(label_t) if abs(a - b) <= within)
    used_i: set[int] = set()
    used_j: set[int] = set()
    out = []
    for _, i, j in pairs:
        if i not in used_i and j not in used_j:
            used_i.add(i)
            used_j.add(j)
            out.append((i, j))
    return sorted(out)


def _trace(row: manifest.ClipRow, traces: Path | None) -> dict[int, dict] | None:
    path = traces / f"{row.name}.json" if traces else None
    if path is None or not path.exists():
        return None
    return {int(r["i"]): r for r in json.loads(path.read_text()).get("rows", []) if r.get("ok")}


def _side_angle(lm: np.ndarray, trace_row: dict, field_name: str, grade: str) -> float | None:
    """The angle of ``field_name`` on the side whose visibility (``grade``'s landmarks) is nearest the trace's."""
    xy, vis = lm[None, :, :2].astype(np.float64), lm[None, :, 3].astype(np.float64)
    graded = [float(vis[0, list(tri)].min()) for tri in SIDE_GRADE[grade]]
    side = int(np.argmin([abs(g - float(trace_row[grade])) for g in graded]))
    a, j, b = body.SIDES[field_name][side]
    return float(body.degrees(xy[:, a], xy[:, j], xy[:, b])[0])


def clip_form(row: manifest.ClipRow, rec: evaluate.Recording, traces: Path | None) -> tuple[ClipForm, list[RepMatch]]:
    from homegym.daemon.counting.events import RepEvent
    from homegym.daemon.counting.form import ANGLE

    fps = row.fps or 30.0
    reps = [e for e in rec.events if isinstance(e, RepEvent) and e.exercise == row.exercise]
    timed = [e for e in reps if e.turn_t is not None]
    labels_t = [b / fps for b in row.bottoms]
    pairs = match([e.turn_t for e in timed if e.turn_t is not None], labels_t)
    trace = _trace(row, traces)
    angle = ANGLE[row.exercise][0] if row.exercise in ANGLE else ""
    times = np.array([f[1] for f in rec.frames])
    out = []
    cf = ClipForm(row.name, row.exercise, row.split or "", row.reps or 0, len(reps), len(pairs), len(timed) - len(pairs),
                  len(labels_t) - len(pairs), len(reps) - len(timed), 0)
    for e in reps:
        if e.full is None:  # counted, but not judged: why
            why = e.unmeasured or "not measured"
            cf.unmeasured[why] = cf.unmeasured.get(why, 0) + 1
    for i, j in pairs:
        e = timed[i]
        assert e.turn_t is not None
        m = RepMatch(row.name, row.exercise, row.split or "", row.bottoms[j], e.turn_t - labels_t[j], e.full,
                     [s.key for s in e.short], e.unmeasured, e.turn_deg)
        cf.full += int(e.full is True)
        for s in e.short:
            cf.shortfalls[s.key] = cf.shortfalls.get(s.key, 0) + 1
        if trace is not None and angle in TRACE_FIELD and row.bottoms[j] in trace:
            name, grade = TRACE_FIELD[angle]
            tr = trace[row.bottoms[j]]
            m.trace_deg = float(tr[name])
            k = int(np.argmin(np.abs(times - e.turn_t))) if len(times) else -1
            lm = rec.landmarks[k] if 0 <= k < len(rec.landmarks) else None
            if lm is not None and grade in tr:
                m.side_deg = _side_angle(lm, tr, name, grade)
        out.append(m)
    return cf, out


def _exercise_form(clips: list[ClipForm], reps: list[RepMatch]) -> ExerciseForm:
    true = sum(c.true for c in clips)
    return ExerciseForm(
        Figures.of(r.dt for r in reps),
        Figures.of(r.reported_deg - r.trace_deg for r in reps if r.reported_deg is not None and r.trace_deg is not None),
        Figures.of(r.side_deg - r.trace_deg for r in reps if r.side_deg is not None and r.trace_deg is not None),
        true, sum(c.matched for c in clips), sum(c.unmatched_reps for c in clips), sum(c.unmatched_turns for c in clips),
        sum(c.full for c in clips) / true if true else 0.0)


def summarise(results: list[tuple[ClipForm, list[RepMatch]]]) -> FormReport:
    report = FormReport([c for c, _ in results], [m for _, ms in results for m in ms])
    for ex in dict.fromkeys(c.exercise for c in report.clips):
        report.by_exercise[ex] = _exercise_form([c for c in report.clips if c.exercise == ex],
                                                [r for r in report.reps if r.exercise == ex])
    report.overall = _exercise_form(report.clips, report.reps)
    return report


def _one(args: tuple[manifest.ClipRow, object, Path | None, Path | None]) -> tuple[ClipForm, list[RepMatch]] | None:
    """One clip's figures; None for a clip of an exercise the model does not count (scored as other, as eval does)."""
    row, cfg, model, traces = args
    rec = evaluate.record_clip(row, cfg, model, poses=True)
    row = row.scored_for(rec.exercises)
    return None if row.exercise == manifest.OTHER else clip_form(row, rec, traces)


def run(manifest_path: Path, cfg, model: Path | None, split: str | None, traces: Path | None, jobs: int = 1,
        clips: list[str] | None = None) -> FormReport:
    """Every rep clip (of one split; of ``clips``) with its turn points marked, ``jobs`` clips at a time."""
    rows = [r for r in evaluate.rows_of(manifest_path, split) if r.exercise != manifest.OTHER and r.reps and r.bottoms]
    if clips:
        unknown = sorted(set(clips) - {r.name for r in rows})
        if unknown:
            raise UserError(f"--clips: {', '.join(unknown)} is not a rep clip of {manifest_path}")
        rows = [r for r in rows if r.name in clips]
    if traces is None and (manifest_path.parent / "poses").is_dir():
        traces = manifest_path.parent / "poses"
    work = [(r, cfg, model, traces) for r in rows]
    if jobs > 1:
        with ProcessPoolExecutor(jobs) as pool:
            done = list(pool.map(_one, work))
    else:
        done = [_one(w) for w in work]
    results = [r for r in done if r is not None]
    for row, r in zip(rows, done):
        if r is None:
            log.info("%s: a %s clip, which this model does not count: left out", row.name, row.exercise)
        else:
            c = r[0]
            log.info("%s: %d reps, %d counted, %d matched, %d full", row.name, c.true, c.counted, c.matched, c.full)
    return summarise(results)


def _f(v: float | None, unit: str = "") -> str:
    return "–" if v is None else f"{v:.2f}{unit}" if unit == " s" else f"{v:.1f}{unit}"


def markdown(r: FormReport) -> str:
    rows = ["| exercise | hand reps | matched | unmatched reps / turns | turn median | turn p95 | angle median (reported) "
            "| angle median (trace's side) | angle n | flagged full |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    items = [*r.by_exercise.items(), *([("all", r.overall)] if r.overall else [])]
    for ex, f in items:
        rows.append(f"| {ex} | {f.reps} | {f.matched} | {f.unmatched_reps} / {f.unmatched_turns} | {_f(f.timing.median, ' s')} | "
                    f"{_f(f.timing.p95, ' s')} | {_f(f.reported_angle.median, '°')} | {_f(f.side_angle.median, '°')} | "
                    f"{f.side_angle.n} | {100 * f.full_share:.0f} % |")
    low = [c for c in r.clips if c.full_share < FULL_SHARE]
    if low:
        rows += ["", f"Clips with under {FULL_SHARE:.0%} of their hand-counted reps flagged full:", "",
                 "| clip | exercise | split | hand reps | counted | full | fell short | counted, not judged | not matched |",
                 "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
        for c in sorted(low, key=lambda c: (c.exercise, c.clip)):
            short = ", ".join(f"{k} ×{n}" for k, n in c.shortfalls.items()) or "–"
            unmeasured = ", ".join(f"{k} ×{n}" for k, n in c.unmeasured.items()) or "–"
            apart = f"{c.unmatched_turns} turns, {c.unmatched_reps} reps" if c.unmatched_turns or c.unmatched_reps else "–"
            rows.append(f"| {c.clip} | {c.exercise} | {c.split} | {c.true} | {c.counted} | {c.full} | {short} | {unmeasured} | {apart} |")
    return "\n".join(rows)
