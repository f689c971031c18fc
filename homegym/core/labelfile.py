"""Per-frame labels of a video as a CSV of segments: the format every tool reads and writes.

    # homegym labels v1
    # video: ../clips/pushup/austin.mp4   (relative to this file, or absolute)
    # split: train                         (optional: train | eval, overrides the seeded split)
    # group: austinlhx                     (optional: clips of one group never straddle the split)
    start,end,label
    0,14,pushup_up
    30,41,pushup_down

``start`` and ``end`` are 0-based frame indices as OpenCV decodes the file, both
inclusive. Frames no segment covers are unlabelled: left out of training and of
frame accuracy, never guessed.
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import UserError
from .labels import parse_label

MAGIC = "# homegym labels v1"
SUFFIX = ".labels.csv"
VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".gif", ".m4v")


@dataclass(frozen=True)
class Segment:
    start: int
    end: int  # inclusive
    label: str


@dataclass
class LabelFile:
    segments: list[Segment]
    video: Path | None = None  # absolute once read
    meta: dict[str, str] = field(default_factory=dict)  # split, group, and anything else as "# key: value"

    @property
    def labels(self) -> set[str]:
        return {s.label for s in self.segments}

    def per_frame(self, n_frames: int, label_index: dict[str, int]) -> np.ndarray:
        """Label index per frame, -1 where unlabelled; segments beyond the video are clipped."""
        out = np.full(n_frames, -1, dtype=np.int16)
        for s in self.segments:
            if s.start < n_frames:
                out[s.start : min(s.end, n_frames - 1) + 1] = label_index[s.label]
        return out


def segments_from_frames(frame_labels: list[str | None]) -> list[Segment]:
    """Run-length encode per-frame labels (None = unlabelled) into segments."""
    segs: list[Segment] = []
    start = 0
    for i in range(1, len(frame_labels) + 1):
        if i == len(frame_labels) or frame_labels[i] != frame_labels[start]:
            label = frame_labels[start]
            if label is not None:
                segs.append(Segment(start, i - 1, label))
            start = i
    return segs


def labels_path_for(video: Path) -> Path:
    return video.with_name(video.stem + SUFFIX)


def find_video_beside(labels_path: Path) -> Path | None:
    stem = labels_path.name[: -len(SUFFIX)]
    for suf in VIDEO_SUFFIXES:
        cand = labels_path.with_name(stem + suf)
        if cand.exists():
            return cand
    return None


def read(path: Path) -> LabelFile:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise UserError(f"cannot read labels file {path}: {e.strerror}") from None
    meta: dict[str, str] = {}
    body: list[str] = []
    for line in text.splitlines():
        if line.startswith("#"):
            key, sep, value = line[1:].partition(":")
            if sep:
                meta[key.strip()] = value.strip()
        elif line.strip():
            body.append(line)
    rows = list(csv.reader(body))
    if not rows or [c.strip() for c in rows[0]] != ["start", "end", "label"]:
        raise UserError(f"{path}: not a labels file (expected a 'start,end,label' header)")
    segments: list[Segment] = []
    for n, row in enumerate(rows[1:], start=2):
        try:
            start, end, label = int(row[0]), int(row[1]), row[2].strip()
        except (ValueError, IndexError):
            raise UserError(f"{path}: row {n} is not 'start,end,label': {','.join(row)!r}") from None
        if start < 0 or end < start:
            raise UserError(f"{path}: row {n}: need 0 <= start <= end, got {start},{end}")
        try:
            parse_label(label)
        except UserError as e:
            raise UserError(f"{path}: row {n}: {e}") from None
        segments.append(Segment(start, end, label))
    segments.sort(key=lambda s: s.start)
    for a, b in zip(segments, segments[1:]):
        if b.start <= a.end:
            raise UserError(f"{path}: segments {a.start}-{a.end} and {b.start}-{b.end} overlap")
    video_s = meta.pop("video", None)
    video = (path.parent / video_s).resolve() if video_s else find_video_beside(path)
    return LabelFile(segments=segments, video=video, meta=meta)


def write(path: Path, lf: LabelFile) -> None:
    """Write atomically (temp file + rename) so an interrupted labeller never leaves half a file."""
    path = Path(path)
    buf = io.StringIO()
    buf.write(MAGIC + "\n")
    if lf.video is not None:
        rel = os.path.relpath(Path(lf.video).resolve(), path.parent.resolve())
        buf.write(f"# video: {Path(rel).as_posix()}\n")
    for k, v in lf.meta.items():
        buf.write(f"# {k}: {v}\n")
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["start", "end", "label"])
    for s in sorted(lf.segments, key=lambda s: s.start):
        w.writerow([s.start, s.end, s.label])
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(buf.getvalue(), encoding="utf-8")
    tmp.replace(path)

