"""The keypoint classifier's training settings: each default once, here; ``homegym train`` passes through what it is given."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from homegym.core import keypoint_features as kf
from homegym.core import manifest
from homegym.core.errors import UserError

from ..from_reps import DEFAULT_EXERCISES, POSTURES
from .data import labels_for


@dataclass
class KeypointSettings:
    """``homegym train --kind keypoints`` (the default kind)."""

    manifests: list[Path]  # clip manifests with rep marks (real clips; rendered ones from homegym synth)
    tracks: list[Path]  # folders of the clips' keypoints, <clip>.npz (homegym poses)
    out: Path
    label_poses: Path | None = None  # MediaPipe traces that sharpen the rep-mark labels (default: the clips' own keypoints)
    hidden: tuple[int, ...] = (96, 48)
    dropout: float = 0.3
    l2: float = 1e-4
    epochs: int = 30
    batch: int = 256
    lr: float = 1e-3
    folds: int = 5  # 0: no cross-validation
    seed: int = 0
    postures: str = "out"  # the standing / plank frames of other clips: out, up (the top they are) or neither (from_reps.POSTURES)
    mirror: bool = True
    views: int = 0  # rotated views of each clip (keypoints.augment), beside the mirror
    ensemble: int = 1  # models from consecutive seeds, averaged into one
    pushup_gate: tuple[float, float] = (0.7, 1.0)  # the torso uprightness over which push-up phases fade (keypoint_features.gate)
    upright_gate: tuple[float, float] = (1.0, 1.0)  # ... below which the phases of exercises done upright fade (1 1: off)
    exercises: tuple[str, ...] = DEFAULT_EXERCISES  # what it learns to count; clips of other exercises count nothing
    features: str = kf.VERSION  # the features' version (keypoint_features.VERSIONS)

    @property
    def labels(self) -> tuple[str, ...]:
        return labels_for(self.exercises)

    def check(self) -> None:
        """Each bad setting a one-line error naming its flag, before any keypoints are read."""
        if self.epochs < 1 or self.batch < 1 or self.ensemble < 1:
            raise UserError("--epochs, --batch and --ensemble must be 1 or more")
        manifest.check_exercises(self.exercises)
        if self.features not in kf.VERSIONS:
            raise UserError(f"--features must be one of {', '.join(kf.VERSIONS)}, got {self.features!r}")
        if self.postures not in POSTURES:
            raise UserError(f"--postures must be one of {', '.join(POSTURES)}, got {self.postures!r}")
        if self.folds == 1 or self.folds < 0:
            raise UserError(f"--folds must be 0 (none) or 2 or more, got {self.folds}")
        for folder in self.tracks:
            if not folder.is_dir():
                raise UserError(f"--tracks: no such folder: {folder} (homegym poses MANIFEST -o DIR writes it)")
