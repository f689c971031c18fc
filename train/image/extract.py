"""``homegym extract``: sample frames from videos into three-class image folders (one folder per label)."""

from __future__ import annotations

import logging
from pathlib import Path

import cv2

from homegym.core import labelfile
from homegym.core.errors import UserError
from homegym.core.video import iter_frames

log = logging.getLogger(__name__)
UNLABELLED = "unlabelled"


def _inputs(paths: list[Path]) -> list[tuple[Path, labelfile.LabelFile | None]]:
    """Each input is a video (its labels file beside it, if any), a labels file, or a folder of either."""
    out: list[tuple[Path, labelfile.LabelFile | None]] = []
    for p in paths:
        if not p.exists():
            raise UserError(f"not found: {p}")
        if p.is_dir():
            found = sorted(p.rglob(f"*{labelfile.SUFFIX}"))
            vids = [] if found else sorted(q for q in p.rglob("*") if q.suffix.lower() in labelfile.VIDEO_SUFFIXES)
            if not found and not vids:
                raise UserError(f"no videos or labels files in {p}")
            out += _inputs(found + vids)
        elif p.name.endswith(labelfile.SUFFIX):
            lf = labelfile.read(p)
            if lf.video is None:
                raise UserError(f"{p}: names no video and none lies beside it")
            out.append((lf.video, lf))
        else:
            lp = labelfile.labels_path_for(p)
            out.append((p, labelfile.read(lp) if lp.exists() else None))
    return out


def extract(paths: list[Path], out: Path, stride: int, size: tuple[int, int] | None, quality: int = 92) -> dict[str, int]:
    """Write ``OUT/<label>/<clip>_<frame>.jpg``; unlabelled frames of labelled clips are skipped,
    clips without labels go to ``OUT/unlabelled``. Returns the count per folder."""
    if stride < 1:
        raise UserError(f"--stride must be >= 1, got {stride}")
    counts: dict[str, int] = {}
    for video, lf in _inputs(paths):
        per = None
        if lf is not None:
            per = {}
            for s in lf.segments:
                for f in range(s.start, s.end + 1):
                    per[f] = s.label
        n = 0
        for i, frame in iter_frames(video, stride=stride, size=size):
            label = UNLABELLED if per is None else per.get(i)
            if label is None:
                continue
            d = out / label
            d.mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(d / f"{video.stem}_{i:06d}.jpg"), frame, [cv2.IMWRITE_JPEG_QUALITY, quality])
            counts[label] = counts.get(label, 0) + 1
            n += 1
        log.info("%s: %d frames", video.name, n)
    return counts
