"""The image classifier's training settings: each default once, here; ``homegym train`` passes through what it is given."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from homegym.core import manifest
from homegym.core.errors import UserError

from ..from_reps import DEFAULT_EXERCISES


@dataclass
class ImageSettings:
    """``homegym train --kind image``: every setting with its default (the command line passes through what it is given)."""

    data: list[Path]
    out: Path
    size: int = 160
    alpha: float = 1.0
    weights: str = "imagenet"
    epochs: int = 10
    batch: int = 32
    lr: float = 1e-3
    dense: int = 128
    dropout: float = 0.2
    stride: int = 2
    framing: str = "full"  # full | motion (homegym.core.framing)
    augment: bool = True
    fine_tune_epochs: int = 0
    fine_tune_lr: float = 1e-5
    pose_aux: float = 0.0  # weight of the joint-angle regression beside the labels (0: off); needs pose traces
    masks: Path | None = None  # person masks (scripts/person_masks.py) for the background swap
    background_swap: float = 0.0  # share of augmented training frames whose room is swapped for another's
    unfreeze: int | None = 30  # top layers of the base to unfreeze in the fine-tune phase; None = all
    seed: int = 0
    test_fraction: float = 0.2
    val_fraction: float = 0.1
    patience: int = 4
    steps_per_epoch: int | None = None
    exercises: tuple[str, ...] = DEFAULT_EXERCISES  # what a manifest's clips teach; clips of other exercises count nothing
    cache: Path | None = field(
        default_factory=lambda: Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "homegym" / "frames")

    def check(self) -> None:
        """Each bad setting a one-line error naming its flag, before any data is read."""
        manifest.check_exercises(self.exercises)
        if self.size < 32 or self.size > 512:
            raise UserError(f"--size must be 32..512, got {self.size}")
        if self.alpha not in (0.35, 0.5, 0.75, 1.0, 1.3, 1.4):
            raise UserError(f"--alpha must be one of 0.35, 0.5, 0.75, 1.0, 1.3, 1.4 (MobileNetV2's), got {self.alpha}")
        for name in ("epochs", "batch", "stride", "dense"):
            if getattr(self, name) < (0 if name == "epochs" else 1):
                raise UserError(f"--{name} must be positive, got {getattr(self, name)}")
        if self.pose_aux < 0:
            raise UserError(f"--pose-aux must be >= 0, got {self.pose_aux}")
        if not 0.0 <= self.background_swap <= 1.0:
            raise UserError(f"--background-swap must be 0..1, got {self.background_swap}")
        if self.background_swap > 0 and (self.masks is None or not self.augment):
            raise UserError("--background-swap is augmentation from person masks: it needs --masks DIR and no --no-augment")
        if self.masks is not None and not self.masks.is_dir():
            raise UserError(f"--masks: no such folder: {self.masks}")
        if self.masks is not None and self.framing != "full":
            raise UserError("--masks are made on whole frames: they need --framing full")
        if self.epochs == 0 and self.fine_tune_epochs == 0:
            raise UserError("nothing to train: --epochs and --fine-tune-epochs are both 0")
