"""Training data: labelled videos, three-class image folders and rep manifests, split by clip.

Every source becomes a list of ``Clip`` objects (frames at the model's size, RGB,
with their label indices). The split is by clip, or by ``group`` (a source), never
frame by frame: neighbouring frames are near-duplicates and a frame-level split
reports an accuracy the model does not have.
"""

from __future__ import annotations

import hashlib
import logging
import random
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from homegym.core import labelfile, manifest
from homegym.core.errors import UserError
from homegym.core.framing import Framer, Framing
from homegym.core.labels import order_labels, parse_label
from homegym.core.video import downscale, iter_frames, open_video

from ..from_reps import POSE_TARGETS, pose_angles, read_pose_fields

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}
TRAIN, VAL, TEST = "train", "val", "test"


@dataclass
class ClipSource:
    """Where a clip's frames and labels come from, before decoding."""

    name: str
    group: str
    split: str  # "train" / "eval" from the data itself, or "" to be split by seed
    video: Path | None = None
    labels: labelfile.LabelFile | None = None
    images: list[tuple[Path, str]] = field(default_factory=list)  # for image folders
    pose_file: Path | None = None  # a pose trace (poses/<clip>.json) beside a manifest, for --pose-aux


@dataclass
class Clip:
    name: str
    group: str
    split: str
    frames: np.ndarray  # (N, S, S, 3) uint8 RGB
    labels: np.ndarray  # (N,) label index
    frame_index: np.ndarray  # (N,) frame number in the video (or image number)
    source: str
    fps: float = 0.0  # the video's frame rate (0 for stills): frame_index / fps is the frame's time
    pose: np.ndarray | None = None  # (N, 3) joint angles from the clip's pose trace (from_reps.pose_angles), NaN unknown
    mask: np.ndarray | None = None  # (N, S, S) uint8 person mask (scripts/person_masks.py), for the background swap


def _image_group(rel: Path) -> str:
    """Images below a label folder group by their sub-folder, or by the file name before its frame number."""
    if len(rel.parts) > 1:
        return str(rel.parent)
    stem = rel.stem
    head, sep, tail = stem.rpartition("_")
    return head if sep and tail.isdigit() else stem


def discover(paths: list[Path], exercises: Collection[str] | None = None) -> list[ClipSource]:
    """Find every clip under the given paths (labels files, folders of them, image folders, manifests). A manifest's clips
    are labelled for a model of ``exercises`` (a clip of another exercise is one of other movements; None: every one)."""
    sources: list[ClipSource] = []
    for path in paths:
        path = Path(path)
        if not path.exists():
            raise UserError(f"dataset path not found: {path}")
        if path.is_file():
            if path.name.endswith(labelfile.SUFFIX):
                sources.append(_from_labels(path))
            elif path.suffix == ".csv":
                sources.extend(_from_manifest(path, exercises))
            else:
                raise UserError(f"{path}: expected a folder, a '*{labelfile.SUFFIX}' file or a clip manifest (.csv)")
            continue
        label_files = sorted(path.rglob(f"*{labelfile.SUFFIX}"))
        if label_files:
            sources.extend(_from_labels(p) for p in label_files)
            continue
        found = _from_image_folder(path)
        if not found:
            raise UserError(f"no labelled videos ('*{labelfile.SUFFIX}') or label folders with images in {path}")
        sources.extend(found)
    if not sources:
        raise UserError("no training data given")
    return sources


def _from_labels(path: Path) -> ClipSource:
    lf = labelfile.read(path)
    if lf.video is None or not lf.video.exists():
        raise UserError(f"{path}: its video {lf.video or '(none beside it)'} does not exist")
    name = path.name[: -len(labelfile.SUFFIX)]
    return ClipSource(name, lf.meta.get("group", name), lf.meta.get("split", ""), video=lf.video, labels=lf)


def _from_manifest(path: Path, exercises: Collection[str] | None) -> list[ClipSource]:
    from ..from_reps import derive

    rows = manifest.read(path)
    if exercises is not None:
        rows = [r.scored_for(exercises) for r in rows]
    poses = path.parent / "poses"
    out = []
    for row, lf in derive(rows, poses if poses.is_dir() else None):
        pose_file = poses / f"{row.path.stem}.json"
        out.append(ClipSource(row.path.stem, lf.meta["group"], row.split, video=row.path, labels=lf,
                              pose_file=pose_file if pose_file.is_file() else None))
    return out


def _from_image_folder(root: Path) -> list[ClipSource]:
    subdirs = [d for d in sorted(root.iterdir()) if d.is_dir()]
    if not subdirs:
        return []
    for d in subdirs:
        try:
            parse_label(d.name)
        except UserError as e:
            raise UserError(f"{root}: folder {d.name!r} is not a label: {e}") from None
    groups: dict[str, ClipSource] = {}
    for d in subdirs:
        images = [p for p in sorted(d.rglob("*")) if p.suffix.lower() in IMAGE_SUFFIXES]
        if not images:
            raise UserError(f"label folder {d} holds no images")
        for img in images:
            g = _image_group(img.relative_to(d))
            src = groups.setdefault(g, ClipSource(name=g, group=g, split=""))
            src.images.append((img, d.name))
    return list(groups.values())


def _wh(size: int | tuple[int, int]) -> tuple[int, int]:
    return (size, size) if isinstance(size, int) else (int(size[0]), int(size[1]))


def _cache_key(src: ClipSource, size: tuple[int, int], stride: int, framing: Framing) -> str:
    assert src.video is not None
    h = hashlib.sha1()
    st = src.video.stat()
    h.update(f"{src.video.resolve()}|{st.st_size}|{st.st_mtime_ns}|{size[0]}x{size[1]}|{stride}|{sorted(framing.to_dict().items())}|v4".encode())
    return h.hexdigest()[:20]


def _decode_video(src: ClipSource, size: tuple[int, int], stride: int, cache: Path | None,
                  framing: Framing) -> tuple[np.ndarray, np.ndarray, float]:
    """All sampled frames of a video at ``size`` (w, h), RGB, with their frame numbers and the video's
    frame rate; cached on disk.

    Framed as the daemon's capture frames them: the sampled frames only, at the video's own time."""
    path = cache / f"{_cache_key(src, size, stride, framing)}.npz" if cache else None
    if path is not None and path.exists():
        with np.load(path) as z:
            return z["frames"], z["index"], float(z["fps"])
    assert src.video is not None
    frames, index = [], []
    cap, info = open_video(src.video)
    cap.release()
    framer = Framer(framing, size)
    for i, frame in iter_frames(src.video, stride=stride):
        frames.append(cv2.cvtColor(framer(frame, i / info.fps), cv2.COLOR_BGR2RGB))
        index.append(i)
    arr = np.stack(frames) if frames else np.zeros((0, size[1], size[0], 3), np.uint8)
    idx = np.asarray(index, dtype=np.int32)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.stem + ".tmp.npz")
        np.savez(tmp, frames=arr, index=idx, fps=info.fps)
        tmp.replace(path)
    return arr, idx, info.fps


def _masks_for(masks: Path, name: str, fidx: np.ndarray, size: tuple[int, int]) -> np.ndarray | None:
    """The person masks of a clip's sampled frames from ``masks/<name>.npz``; None where the folder has
    no file for the clip. A frame the file lacks, or where it found no person, gets a full mask: it is
    never composited (an empty room swapped for another would keep the frame's push-up label)."""
    path = masks / f"{name}.npz"
    if not path.is_file():
        return None
    try:
        with np.load(path) as z:
            index, m = z["index"], z["masks"]
    except (OSError, ValueError, KeyError) as e:
        raise UserError(f"{path}: not a person-mask file ({e})") from None
    if m.shape[1:] != (size[1], size[0]):
        raise UserError(f"{path}: masks are {m.shape[2]}x{m.shape[1]}, the model's input is {size[0]}x{size[1]}: "
                        f"make them at --size {size[0]}")
    out = np.full((len(fidx), size[1], size[0]), 255, np.uint8)
    where = {int(i): k for k, i in enumerate(index)}
    for j, i in enumerate(fidx):
        k = where.get(int(i))
        if k is not None and m[k].max() > 127:
            out[j] = m[k]
    return out


def load(
    sources: list[ClipSource], size: int | tuple[int, int], stride: int, cache: Path | None,
    framing: Framing | None = None, unlabelled: bool = False, masks: Path | None = None,
) -> tuple[list[Clip], tuple[str, ...]]:
    """Decode every source's labelled frames at ``size`` (an int for square, or (w, h)), RGB, under
    ``framing`` (stills have no motion: they stay whole); returns the clips and the ordered label set.

    ``unlabelled`` keeps a video's every sampled frame, those without a label as -1: what a stream's
    own statistics (its recent mean, say) are taken over, as the daemon sees it. ``masks`` is a folder
    of person masks (``scripts/person_masks.py``) for the clips that have one."""
    size = _wh(size)
    framing = framing or Framing()
    labels = set()
    for s in sources:
        labels |= s.labels.labels if s.labels else {lab for _, lab in s.images}
    ordered = order_labels(labels)
    if len(ordered) < 2:
        raise UserError(f"need at least two labels to train, found {list(ordered) or 'none'}")
    index = {lab: i for i, lab in enumerate(ordered)}
    clips = []
    for n, s in enumerate(sources, start=1):
        if s.video is not None:
            assert s.labels is not None, "a video source has its labels"
            frames, fidx, fps = _decode_video(s, size, stride, cache, framing)
            per_frame = s.labels.per_frame(int(fidx.max()) + 1 if len(fidx) else 0, index)
            lab = per_frame[fidx] if len(fidx) else np.zeros(0, np.int16)
            keep = slice(None) if unlabelled else lab >= 0
            pose = None
            if s.pose_file is not None and len(fidx):
                pose = pose_angles(read_pose_fields(s.pose_file, int(fidx.max()) + 1))[fidx][keep]
            mask = _masks_for(masks, s.name, fidx[keep], size) if masks is not None else None
            clip = Clip(s.name, s.group, s.split, frames[keep], lab[keep].astype(np.int64), fidx[keep], str(s.video), fps, pose, mask)
        else:
            imgs, labs = [], []
            for p, lab_name in s.images:
                img = cv2.imread(str(p), cv2.IMREAD_COLOR)
                if img is None:
                    raise UserError(f"cannot read image {p}")
                imgs.append(cv2.cvtColor(downscale(img, size), cv2.COLOR_BGR2RGB))
                labs.append(index[lab_name])
            clip = Clip(s.name, s.group, s.split, np.stack(imgs), np.asarray(labs), np.arange(len(imgs)), s.name)
        log.info("[%d/%d] %s: %d labelled frames", n, len(sources), s.name, int((clip.labels >= 0).sum()))
        clips.append(clip)
    return [c for c in clips if (c.labels >= 0).any()], ordered


@dataclass(frozen=True)
class Split:
    """Which clip lands where; written into the report as it is."""

    seed: int
    method: str
    assignment: dict[str, str]  # clip name -> train / val / test


def split_clips(clips: list[Clip], seed: int, test_fraction: float = 0.2, val_fraction: float = 0.1) -> Split:
    """Split by group: a split column in the data (train/eval) wins; the rest is split 8:2 by seed.

    A share of the training groups is held back for validation (early stopping and the
    learning curves), so the held-out test split is looked at once, at the end.
    """
    rng = random.Random(seed)
    groups: dict[str, list[Clip]] = {}
    for c in clips:
        groups.setdefault(c.group, []).append(c)
    given = {g: {c.split for c in cs} - {""} for g, cs in groups.items()}
    for g, s in given.items():
        if len(s) > 1:
            raise UserError(f"group {g!r} has clips on both sides of the data's split ({sorted(s)})")
    fixed = {g: ("test" if s == {"eval"} else "train") for g, s in given.items() if s}
    free = sorted(g for g in groups if g not in fixed)
    rng.shuffle(free)
    n_test = round(test_fraction * len(free)) if free else 0
    if free and n_test == 0 and not any(v == TEST for v in fixed.values()):
        n_test = 1
    group_split = dict(fixed)
    group_split.update({g: TEST for g in free[:n_test]})
    group_split.update({g: TRAIN for g in free[n_test:]})
    train_groups = sorted(g for g, s in group_split.items() if s == TRAIN)
    rng.shuffle(train_groups)
    n_val = round(val_fraction * len(train_groups)) if len(train_groups) >= 5 else 0
    for g in train_groups[:n_val]:
        group_split[g] = VAL
    if not any(s == TEST for s in group_split.values()):
        raise UserError("the held-out split is empty: give more clips (or groups) or mark some as split 'eval'")
    if not any(s == TRAIN for s in group_split.values()):
        raise UserError("the training split is empty: every clip is marked 'eval'")
    method = ("data's split column + " if fixed else "") + f"seeded {1 - test_fraction:.0%}:{test_fraction:.0%} by group"
    return Split(seed, method, {c.name: group_split[c.group] for c in clips})


def _part(clips: list[Clip], split: Split, part: str) -> list[Clip]:
    return [c for c in clips if split.assignment[c.name] == part]


def gather(clips: list[Clip], split: Split, part: str) -> tuple[np.ndarray, np.ndarray]:
    chosen = _part(clips, split, part)
    if not chosen:
        return np.zeros((0,) + (clips[0].frames.shape[1:]), np.uint8), np.zeros(0, np.int64)
    return np.concatenate([c.frames for c in chosen]), np.concatenate([c.labels for c in chosen])


def _gather_field(clips: list[Clip], split: Split, part: str, name: str, missing) -> np.ndarray:
    """A per-frame field of a part's clips (``Clip.<name>``) in gather()'s order; ``missing(n)`` where a clip has none."""
    values = [(getattr(c, name), len(c.labels)) for c in _part(clips, split, part)]
    return np.concatenate([v if v is not None else missing(n) for v, n in values]) if values else missing(0)


def gather_pose(clips: list[Clip], split: Split, part: str) -> np.ndarray:
    """The joint-angle targets of a part's frames, in gather()'s order; NaN where a clip has no trace."""
    return _gather_field(clips, split, part, "pose", lambda n: np.full((n, len(POSE_TARGETS)), np.nan, np.float32))


def gather_masks(clips: list[Clip], split: Split, part: str) -> np.ndarray:
    """The person masks of a part's frames, in gather()'s order; full (never composited) where a clip has none."""
    shape = clips[0].frames.shape[1:3]
    return _gather_field(clips, split, part, "mask", lambda n: np.full((n, *shape), 255, np.uint8))


def background_plates(clips: list[Clip], split: Split, part: str, per_clip: int = 8) -> np.ndarray:
    """Rooms without their person: ``per_clip`` frames of each masked clip of a part, spread over it,
    the person (mask > 1/4, grown by a few pixels) painted out by OpenCV's inpainting. What the
    background swap puts behind another clip's person, so a room stops saying which label it holds."""
    plates = []
    for c in _part(clips, split, part):
        if c.mask is None or not len(c.frames):
            continue
        for j in np.unique(np.linspace(0, len(c.frames) - 1, per_clip).round().astype(int)):
            hole = cv2.dilate((c.mask[j] > 64).astype(np.uint8), np.ones((5, 5), np.uint8))
            if hole.mean() > 0.6:  # the person fills the frame: no room left to show
                continue
            plates.append(cv2.inpaint(c.frames[j], hole, 5, cv2.INPAINT_TELEA))
    if not plates:
        raise UserError("the background swap found no masked training clip with room around its person: check --masks")
    return np.stack(plates)
