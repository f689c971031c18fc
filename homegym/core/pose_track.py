"""A video's keypoints as the pose stage saw them (``homegym pose``, ``homegym poses``): the .npz format
``homegym-pose/1`` (docs/pose.md), written by the daemon's recorder and read by training."""

from __future__ import annotations

import hashlib
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import UserError

FORMAT = "homegym-pose/1"


def video_digest(path: Path) -> str:
    """The video file's own identity (SHA-256 of its bytes): a clip re-encoded under the same name is another video,
    whatever its name, size or modification time say."""
    h = hashlib.sha256()
    with Path(path).open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@dataclass
class PoseTrack:
    """Per inferred frame: landmarks in frame-normalised coordinates (MediaPipe's convention), NaN where nobody was found."""

    frame: np.ndarray  # (n,) source frame numbers
    t: np.ndarray  # (n,) seconds, the file's own clock
    landmarks: np.ndarray  # (n, 33, 4) x, y (0..1 across the frame), z (x's scale), visibility
    world: np.ndarray  # (n, 33, 3) metres, hips' centre at 0
    presence: np.ndarray  # (n,) the landmark model's score (0: the detector found nobody)
    found: np.ndarray  # (n,) bool
    roi: np.ndarray  # (n, 4) the crop: centre x, y, side (canvas-normalised), rotation (radians); NaN where none
    detected: np.ndarray  # (n,) bool: the detector ran on this frame
    fps: float
    width: int
    height: int
    busy_s: float = 0.0  # seconds in the pose stage (decoding excluded)
    model: str = ""  # the landmark model's version, as the recorder saw it
    video_sha256: str = ""  # the video it was made from (video_digest); "" in files made before the key

    def save(self, path: Path, source: str, model: str, video_sha256: str = "") -> None:
        meta = {"format": FORMAT, "source": source, "model": model, "fps": self.fps, "width": self.width, "height": self.height,
                "video_sha256": video_sha256}
        np.savez_compressed(path, frame=self.frame, t=self.t, landmarks=self.landmarks, world=self.world, presence=self.presence,
                            found=self.found, roi=self.roi, detected=self.detected, fps=np.float32(self.fps),
                            width=np.int32(self.width), height=np.int32(self.height), source=np.str_(source),
                            model=np.str_(model), meta=np.str_(json.dumps(meta)))

    @property
    def xy(self) -> np.ndarray:
        """(n, 33, 2) landmarks in pixels: the same unit along x and y, as the features want."""
        return self.landmarks[..., :2] * np.array([self.width, self.height], np.float32)

    @classmethod
    def load(cls, path: Path) -> PoseTrack:
        try:
            with np.load(path) as z:
                meta = json.loads(str(z["meta"]))
                if meta.get("format") != FORMAT:
                    raise UserError(f"{path}: not a {FORMAT} file (format {meta.get('format')!r})")
                return cls(z["frame"], z["t"], z["landmarks"], z["world"], z["presence"], z["found"].astype(bool), z["roi"],
                           z["detected"].astype(bool), float(z["fps"]), int(z["width"]), int(z["height"]), model=str(z["model"]),
                           video_sha256=str(meta.get("video_sha256", "")))
        except (OSError, ValueError, KeyError, zipfile.BadZipFile) as e:
            raise UserError(f"cannot read keypoint file {path}: {e}") from None


def track_path(tracks: list[Path], name: str) -> Path:
    """The keypoint file of clip ``name``: in the first of ``tracks`` that holds one (the first folder's path if none)."""
    for folder in tracks:
        if (folder / f"{name}.npz").exists():
            return folder / f"{name}.npz"
    return tracks[0] / f"{name}.npz"
