"""Real frames for calibration and the checks, from the data the model was trained on.

The train report names its data sources and which clip sat on which side of the
split, so convert takes held-out frames for accuracy and parity and training frames
for INT8 calibration, never mixing the two.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from homegym.core.errors import UserError
from homegym.core.framing import Framing
from homegym.core.labels import parse_label
from homegym.train.image import dataset

log = logging.getLogger(__name__)


@dataclass
class Frames:
    bgr: np.ndarray  # (N, h, w, 3) uint8 at the working size: what the IR takes
    labels: np.ndarray  # (N,) label index in the report's order


def load(report: dict, working_size: tuple[int, int], data: list[Path] | None, stride: int, cache: Path | None,
         framing: Framing) -> dict[str, Frames]:
    """``{"train": ..., "test": ...}`` frames at the working size under the model's framing, split as the report says.

    Training clips are sampled every ``stride``-th frame (calibration and parity need a few
    hundred); held-out clips give every frame, because the accuracy difference between two
    precisions is a point or two, and on a sparse sample of a few held-out clips it swings
    by several points with the choice of frames alone.
    """
    sources_paths = data or [Path(p) for p in report["data"]["sources"]]
    missing = [p for p in sources_paths if not Path(p).exists()]
    if missing:
        raise UserError(f"training data {missing[0]} not found: the checks need real frames (pass --data)")
    assignment = {n: c["split"] for n, c in report["data"]["clips"].items()}
    model_labels = list(report["labels"])
    exercises = {ex for ex in (parse_label(lab).exercise for lab in model_labels) if ex} or None  # labelled as in training
    sources = [s for s in dataset.discover(sources_paths, exercises) if s.name in assignment]
    seen: set[str] = set()
    out: dict[str, list] = {"train": [], "test": []}
    for part, sides, every in (("train", (dataset.TRAIN, dataset.VAL), stride), ("test", (dataset.TEST,), 1)):
        picked = [s for s in sources if assignment[s.name] in sides]
        if not picked:
            continue
        clips, labels = dataset.load(picked, working_size, every, cache, framing)
        seen |= set(labels)
        # The part's own label indices, renumbered in the model's order (a part may lack a label).
        to_model = np.array([model_labels.index(lab) if lab in model_labels else -1 for lab in labels])
        for c in clips:
            c.labels = to_model[c.labels]
        out[part] = clips
    if seen != set(model_labels):
        raise UserError(f"the data's labels {sorted(seen)} differ from the model's {list(model_labels)}")
    if not out["test"]:
        raise UserError("none of the report's held-out clips was found in the data")
    return {k: Frames(np.concatenate([c.frames for c in v])[..., ::-1].copy(), np.concatenate([c.labels for c in v])) for k,
            v in out.items() if v}


def disjoint(frames: Frames, sizes: list[int], seed: int = 0) -> list[Frames]:
    """Disjoint random subsets of the given sizes (smaller if there are not enough frames)."""
    order = np.random.default_rng(seed).permutation(len(frames.labels))
    out, at = [], 0
    for n in sizes:
        idx = np.sort(order[at : at + n])
        out.append(Frames(frames.bgr[idx], frames.labels[idx]))
        at += n
    return out


def sample(frames: Frames, n: int, seed: int = 0) -> Frames:
    """Up to ``n`` frames spread over every label (as evenly as the label counts allow)."""
    if len(frames.labels) <= n:
        return frames
    rng = np.random.default_rng(seed)
    labels = np.unique(frames.labels)
    per = n // len(labels)
    picked: list[int] = []
    for lab in labels:
        cand = np.nonzero(frames.labels == lab)[0]
        picked.extend(rng.choice(cand, min(per, len(cand)), replace=False))
    rest = np.setdiff1d(np.arange(len(frames.labels)), picked)
    picked.extend(rng.choice(rest, n - len(picked), replace=False))
    idx = np.sort(np.asarray(picked))
    return Frames(frames.bgr[idx], frames.labels[idx])
