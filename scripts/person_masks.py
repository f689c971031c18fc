"""Person masks for training's background swap (``homegym train --masks DIR``), from MediaPipe Pose.

For every ``--stride``-th frame of each clip of a manifest (the frames ``homegym train``
samples, numbered as it numbers them: sequential decoding), MediaPipe Pose (model
complexity 1, the estimator that made ``../shared/data/poses``, on the frame scaled to at
most 640 px) segments the person; the mask is scaled to ``--size`` square as training
scales the frame (the whole frame, squashed: ``framing: full``) and written as
``DIR/<clip>.npz`` (``index``: frame numbers, ``masks``: uint8 0..255). A frame where no
person is found gets an empty mask.

Training only: the daemon never needs it, so it is not a dependency of the package.
MediaPipe 0.10.14 is the last release whose wheel carries the pose model (later ones
download it at run time, which these machines cannot) and it pins protobuf < 5 and its
own OpenCV, so it runs in a virtual environment of its own:

    python3 -m venv .venv-masks && .venv-masks/bin/pip install mediapipe==0.10.14 "numpy<2"
    .venv-masks/bin/python scripts/person_masks.py ../shared/data/clips.csv -o runs/masks
"""

from __future__ import annotations

import argparse
import csv
import functools
import logging
import multiprocessing
import os
import sys
from pathlib import Path

import cv2
import numpy as np

log = logging.getLogger("person_masks")
MAX_SIDE = 640


def clip_masks(path: Path, stride: int, size: int, pose) -> tuple[np.ndarray, np.ndarray]:
    """The sampled frames' numbers and their person masks at ``size`` x ``size``."""
    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        raise RuntimeError(f"cannot open video {path}")
    index, masks = [], []
    i = 0
    try:
        while True:
            if i % stride:
                if not cap.grab():
                    break
                i += 1
                continue
            ok, frame = cap.read()
            if not ok:
                break
            h, w = frame.shape[:2]
            scale = min(1.0, MAX_SIDE / max(h, w))
            if scale < 1.0:
                frame = cv2.resize(frame, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
            res = pose.process(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
            seg = res.segmentation_mask
            m = np.zeros((size, size), np.uint8) if seg is None else \
                np.clip(cv2.resize(seg, (size, size), interpolation=cv2.INTER_AREA) * 255, 0, 255).astype(np.uint8)
            index.append(i)
            masks.append(m)
            i += 1
    finally:
        cap.release()
    return np.asarray(index, np.int32), np.stack(masks) if masks else np.zeros((0, size, size), np.uint8)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("manifest", type=Path)
    ap.add_argument("-o", "--out", type=Path, required=True)
    ap.add_argument("--size", type=int, default=128, help="the model's input size")
    ap.add_argument("--stride", type=int, default=2, help="as homegym train's --stride")
    ap.add_argument("--split", default="train", help="the manifest's split to mask ('' for every clip)")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="clips masked at once (default: one per core)")
    a = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        import mediapipe as mp
    except ImportError:
        mp = None
    if mp is None or not hasattr(mp, "solutions"):  # 0.10.15 and later: no bundled pose model
        sys.exit("error: needs mediapipe 0.10.14 (see this script's docstring for its own virtual environment)")
    try:
        with a.manifest.open(newline="", encoding="utf-8") as f:
            rows = [r for r in csv.DictReader(f) if not a.split or r.get("split") == a.split]
        videos = [(a.manifest.parent / r["file"]).resolve() for r in rows]
    except OSError as e:
        sys.exit(f"error: cannot read manifest {a.manifest}: {e.strerror}")
    except (KeyError, TypeError):
        sys.exit(f"error: {a.manifest}: not a clip manifest (no 'file' column)")
    a.out.mkdir(parents=True, exist_ok=True)
    todo = [v for v in videos if not (a.out / f"{v.stem}.npz").exists()]  # a run cut short goes on where it stopped
    with multiprocessing.Pool(a.jobs) as pool:
        try:
            for n, line in enumerate(pool.imap_unordered(functools.partial(mask_clip, out=a.out, stride=a.stride, size=a.size), todo), 1):
                log.info("[%d/%d] %s", n, len(todo), line)
        except RuntimeError as e:  # the clips masked so far stay: a second run goes on from them
            sys.exit(f"error: {e}")


def mask_clip(video: Path, out: Path, stride: int, size: int) -> str:
    """One clip's masks into ``out/<clip>.npz`` (written whole or not at all)."""
    import mediapipe as mp

    # A fresh tracker per clip: one clip's person says nothing about the next's.
    with mp.solutions.pose.Pose(static_image_mode=False, model_complexity=1, enable_segmentation=True) as pose:
        index, masks = clip_masks(video, stride, size, pose)
    tmp = out / f"{video.stem}.tmp.npz"
    np.savez_compressed(tmp, index=index, masks=masks)
    tmp.replace(out / f"{video.stem}.npz")
    found = float((masks.reshape(len(masks), -1).max(axis=1) > 127).mean()) if len(masks) else 0.0
    return f"{video.stem}: {len(index)} frames, a person in {100 * found:.0f}%"


if __name__ == "__main__":
    main()
