"""Rep-annotated clip lists in the format of ../shared/data/clips.csv.

One row per clip: ``file`` (relative to the manifest), ``exercise`` (an exercise
name or ``other``), ``reps`` (an integer or ``unknown``), ``rep_bottom_frames``
(``;``-separated 0-based frames of each rep's bottom) and optionally ``split``,
``fps``, ``frames``, ``confidence``. Extra columns are kept but not needed, so a
user's own list needs only the first four.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from .errors import UserError

REQUIRED = ("file", "exercise", "reps", "rep_bottom_frames")
OTHER = "other"


@dataclass(frozen=True)
class ClipRow:
    path: Path  # absolute
    exercise: str  # "pushup", "squat", ... or "other"
    reps: int | None  # None where the count is unknown
    bottoms: tuple[int, ...]
    split: str  # "train", "eval" or "" when the manifest has none
    fps: float | None
    extra: dict[str, str]

    @property
    def name(self) -> str:
        return self.path.stem


def read(path: Path) -> list[ClipRow]:
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
    out = []
    for n, r in enumerate(rows, start=2):
        try:
            reps = None if r["reps"].strip() in ("", "unknown") else int(r["reps"])
            bottoms = tuple(int(b) for b in r["rep_bottom_frames"].split(";") if b.strip())
            fps = float(r["fps"]) if r.get("fps") else None
        except ValueError as e:
            raise UserError(f"{path}: row {n}: {e}") from None
        exercise = r["exercise"].strip()
        if not exercise:
            raise UserError(f"{path}: row {n}: empty exercise")
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
