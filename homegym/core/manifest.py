"""Rep-annotated clip lists in the format of ../shared/data/clips.csv.

One row per clip: ``file`` (relative to the manifest), ``exercise`` (an exercise
name or ``other``), ``reps`` (an integer or ``unknown``), ``rep_bottom_frames``
(``;``-separated 0-based frames of each rep's bottom) and optionally ``split``,
``fps``, ``frames``, ``confidence``. Extra columns are kept but not needed, so a
user's own list needs only the first four.

The exercise names are a closed vocabulary (``KNOWN``, the data README's): a row naming
anything else (a typo such as ``pushups``) is left out with a note, never read as a
movement that must count nothing. A model is scored and trained on the exercises it
knows (``ClipRow.scored_for``): a clip of a known exercise it lacks is a movement it
must not count, like ``other``.
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Collection
from dataclasses import dataclass, replace
from pathlib import Path

from .errors import UserError
from .exercises import EXERCISES

log = logging.getLogger(__name__)

REQUIRED = ("file", "exercise", "reps", "rep_bottom_frames")
OTHER = "other"  # movements that must count nothing
KNOWN = (*EXERCISES, OTHER)


def check_exercises(names: Collection[str], what: str = "--exercises") -> None:
    """A model's exercises must be names of the vocabulary (a typo would train a label nothing else knows)."""
    unknown = [n for n in names if n not in EXERCISES]
    if unknown or not names:
        raise UserError(f"{what}: {', '.join(unknown) or 'none given'} is not an exercise: choose from {', '.join(EXERCISES)}")


@dataclass(frozen=True)
class ClipRow:
    path: Path  # absolute
    exercise: str  # "pushup", "squat", ... or "other"
    reps: int | None  # None where the count is unknown
    bottoms: tuple[int, ...]
    split: str  # "train", "eval" or "" when the manifest has none
    fps: float | None
    extra: dict[str, str]
    shows: str | None = None  # the exercise the clip shows, where it is scored as ``other`` (scored_for)

    @property
    def name(self) -> str:
        return self.path.stem

    def scored_for(self, exercises: Collection[str]) -> ClipRow:
        """The clip as a model that knows ``exercises`` is scored and trained on: a known exercise it lacks is a
        movement it must not count (``other``: no reps, no marks), whatever the clip's hand count says."""
        if self.exercise == OTHER or self.exercise in exercises:
            return self
        return replace(self, exercise=OTHER, reps=0, bottoms=(), shows=self.exercise)


def read(path: Path, notes: list[str] | None = None) -> list[ClipRow]:
    """The manifest's rows of known exercises; each row left out is logged, and added to ``notes`` if given
    (the reports carry them)."""
    path = Path(path)
    try:
        with path.open(newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
            if missing:
                raise UserError(f"{path}: not a clip manifest, missing column(s) {', '.join(missing)}")
            rows = list(reader)
    except OSError as e:
        raise UserError(f"cannot read manifest {path}: {e.strerror}") from None
    except UnicodeDecodeError as e:
        raise UserError(f"{path}: not UTF-8 text (at byte {e.start} of a block): not a clip manifest") from None
    except csv.Error as e:
        raise UserError(f"{path}: not a CSV file ({e})") from None
    out = []
    for n, r in enumerate(rows, start=2):
        if any(r.get(c) is None for c in REQUIRED):
            raise UserError(f"{path}: row {n}: fewer cells than the header has columns")
        try:
            reps = None if r["reps"].strip() in ("", "unknown") else int(r["reps"])
            bottoms = tuple(int(b) for b in r["rep_bottom_frames"].split(";") if b.strip())
            fps = float(r["fps"]) if r.get("fps") else None
        except ValueError as e:
            raise UserError(f"{path}: row {n}: {str(e)[:200]}") from None
        exercise = r["exercise"].strip()
        if not exercise:
            raise UserError(f"{path}: row {n}: empty exercise")
        if exercise not in KNOWN:
            note = f"{path.name}: row {n} ({r['file']}) left out: unknown exercise {exercise[:40]!r} (known: {', '.join(KNOWN)})"
            log.warning("%s", note)
            if notes is not None:
                notes.append(note)
            continue
        out.append(
            ClipRow(
                path=(path.parent / r["file"]).resolve(),
                exercise=exercise,
                reps=reps,
                bottoms=bottoms,
                split=(r.get("split") or "").strip(),
                fps=fps,
                extra={k: v for k, v in r.items() if k not in REQUIRED},
            )
        )
    return out
