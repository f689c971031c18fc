"""``homegym train``: load and split the data, fit the seed's model, evaluate it honestly, write the report."""

from __future__ import annotations

import logging
import os
import platform
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from homegym import __version__
from homegym.core import manifest
from homegym.core.errors import UserError
from homegym.core.framing import Framing

from . import dataset, keras_import, report
from . import model as M
from .from_reps import DEFAULT_EXERCISES

log = logging.getLogger(__name__)


@dataclass
class TrainSettings:
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


def _check(s: TrainSettings) -> None:
    manifest.check_exercises(s.exercises)
    if s.size < 32 or s.size > 512:
        raise UserError(f"--size must be 32..512, got {s.size}")
    if s.alpha not in (0.35, 0.5, 0.75, 1.0, 1.3, 1.4):
        raise UserError(f"--alpha must be one of 0.35, 0.5, 0.75, 1.0, 1.3, 1.4 (MobileNetV2's), got {s.alpha}")
    for name in ("epochs", "batch", "stride", "dense"):
        if getattr(s, name) < (0 if name == "epochs" else 1):
            raise UserError(f"--{name} must be positive, got {getattr(s, name)}")
    if s.pose_aux < 0:
        raise UserError(f"--pose-aux must be >= 0, got {s.pose_aux}")
    if not 0.0 <= s.background_swap <= 1.0:
        raise UserError(f"--background-swap must be 0..1, got {s.background_swap}")
    if s.background_swap > 0 and (s.masks is None or not s.augment):
        raise UserError("--background-swap is augmentation from person masks: it needs --masks DIR and no --no-augment")
    if s.masks is not None and not s.masks.is_dir():
        raise UserError(f"--masks: no such folder: {s.masks}")
    if s.masks is not None and s.framing != "full":
        raise UserError("--masks are made on whole frames: they need --framing full")
    if s.epochs == 0 and s.fine_tune_epochs == 0:
        raise UserError("nothing to train: --epochs and --fine-tune-epochs are both 0")


def _onehot(y: np.ndarray, k: int) -> np.ndarray:
    return np.eye(k, dtype=np.float32)[y]


def _class_weights(y: np.ndarray, k: int) -> dict[int, float]:
    counts = np.bincount(y, minlength=k).astype(float)
    w = counts.sum() / (k * np.maximum(counts, 1))
    return {i: float(w[i]) if counts[i] else 0.0 for i in range(k)}


def _targets(y: np.ndarray, k: int, pose: np.ndarray | None):
    """Keras targets: the one-hot labels, and with ``pose`` the angles (NaN as 0) followed by their mask."""
    if pose is None:
        return _onehot(y, k)
    known = np.isfinite(pose)
    return _onehot(y, k), np.concatenate([np.where(known, pose, 0.0), known], axis=1).astype(np.float32)


def _image_ds(x, y, batch, shuffle_seed, aug=None, swap=None):
    """Batches of (frames as float, targets); ``y`` as _targets() gives it. With ``swap`` (the background
    swap), ``x`` carries each frame's person mask as a 4th channel, and the swap comes before ``aug``."""
    import tensorflow as tf

    ds = tf.data.Dataset.from_tensor_slices((x, y))
    if shuffle_seed is not None:
        ds = ds.shuffle(min(len(x), 20000), seed=shuffle_seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch).map(lambda a, b: (tf.cast(a, tf.float32), b), num_parallel_calls=tf.data.AUTOTUNE)
    if swap is not None:
        ds = ds.map(lambda a, b: (swap(a), b), num_parallel_calls=tf.data.AUTOTUNE)
    if aug is not None:
        ds = ds.map(lambda a, b: (aug(a, training=True), b), num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)


def _callbacks(s: TrainSettings, has_val: bool, monitor: str = "loss"):
    """Checkpoint and early stopping on ``monitor`` (validation's where there is validation)."""
    import keras

    monitor = f"val_{monitor}" if has_val else monitor
    cbs = [keras.callbacks.ModelCheckpoint(str(s.out / "checkpoint.keras"), save_best_only=has_val, monitor=monitor, mode="min")]
    if has_val:
        cbs.append(keras.callbacks.EarlyStopping(monitor=monitor, mode="min", patience=s.patience, restore_best_weights=True))
    return cbs


def _merge(history: dict, h, phase_start: bool) -> None:
    if phase_start:
        history.setdefault("phase_starts", []).append(len(history.get("loss", [])))
    for k, v in h.history.items():  # a pose-aux model names its label output's figures head_*
        k = k.replace(f"{M.HEAD_NAME}_accuracy", "accuracy")
        history.setdefault(k, []).extend(float(x) for x in v)


def run(s: TrainSettings) -> dict:
    _check(s)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    t0 = time.time()
    sources = dataset.discover(s.data, s.exercises)
    framing = Framing(s.framing)
    log.info("found %d clips; decoding frames at %dx%d, stride %d, framing %s", len(sources), s.size, s.size, s.stride, s.framing)
    clips, labels = dataset.load(sources, s.size, s.stride, s.cache, framing, masks=s.masks)
    split = dataset.split_clips(clips, s.seed, s.test_fraction, s.val_fraction)
    k = len(labels)
    xtr, ytr = dataset.gather(clips, split, dataset.TRAIN)
    xva, yva = dataset.gather(clips, split, dataset.VAL)
    xte, yte = dataset.gather(clips, split, dataset.TEST)
    log.info("labels %s; frames train %d, validation %d, held-out %d", list(labels), len(ytr), len(yva), len(yte))
    if len(ytr) == 0 or len(yte) == 0:
        raise UserError("no labelled frames on one side of the split")
    missing = [labels[i] for i in range(k) if not (ytr == i).any()]
    if missing:
        raise UserError(f"no training frames for label(s) {missing}: add clips with them or drop those labels")

    keras = keras_import.keras()
    keras.utils.set_random_seed(s.seed)
    s.out.mkdir(parents=True, exist_ok=True)
    model = M.build(labels, s.size, s.alpha, s.weights, s.dense, s.dropout)
    base, head = model.get_layer(M.BASE_NAME), model.get_layer(M.HEAD_NAME)
    cw = _class_weights(ytr, k)
    has_val = len(yva) > 0
    history: dict = {}
    feats: dict[str, np.ndarray] = {}
    pose_net, ptr, pva = None, None, None
    if s.pose_aux > 0:
        ptr, pva = dataset.gather_pose(clips, split, dataset.TRAIN), dataset.gather_pose(clips, split, dataset.VAL)
        if not np.isfinite(ptr).any():
            raise UserError("--pose-aux needs pose traces (poses/<clip>.json beside a clip manifest); none of the training clips has one")
        log.info("pose auxiliary: %.0f%% of training frames have a known joint angle", 100 * np.isfinite(ptr).any(axis=1).mean())
        pose_net = M.with_pose_head(model, ptr.shape[1])
    swap, xtr_in = None, xtr
    if s.background_swap > 0:
        from . import augment

        plates = dataset.background_plates(clips, split, dataset.TRAIN)
        xtr_in = np.concatenate([xtr, dataset.gather_masks(clips, split, dataset.TRAIN)[..., None]], axis=-1)
        swap = augment.background_swap(plates, s.background_swap)
        log.info("background swap: %.0f%% of training frames in front of %d rooms of the training clips (%.0f%% of frames masked)",
                 100 * s.background_swap, len(plates), 100 * float((xtr_in[..., 3] < 255).any(axis=(1, 2)).mean()))

    def fit_frames(lr: float, epochs: int, seed: int, aug):
        """Fit on frames through the whole model: the labels alone, or with --pose-aux the labels and the
        joint angles (the class weights then go into the loss: Keras weighs classes of one output only)."""
        if pose_net is None:
            net, kw, monitor = model, {"class_weight": cw}, "loss"
            net.compile(optimizer=keras.optimizers.Adam(lr), loss="categorical_crossentropy", metrics=["accuracy"])
        else:
            net, kw, monitor = pose_net, {}, f"{M.HEAD_NAME}_loss"
            net.compile(optimizer=keras.optimizers.Adam(lr), loss=[M.weighted_crossentropy([cw[i] for i in range(k)]), M.masked_mse],
                        loss_weights=[1.0, s.pose_aux], metrics=[["accuracy"], []])
        val = _image_ds(xva, _targets(yva, k, pva), s.batch, None) if has_val else None
        return net.fit(_image_ds(xtr_in, _targets(ytr, k, ptr), s.batch, seed, aug, swap), validation_data=val, epochs=epochs,
                       steps_per_epoch=s.steps_per_epoch, callbacks=_callbacks(s, has_val, monitor), verbose=2, **kw)

    if s.epochs:
        head.compile(optimizer=keras.optimizers.Adam(s.lr), loss="categorical_crossentropy", metrics=["accuracy"])
        if not s.augment:
            # Frozen base, no augmentation: the base's output never changes, so compute it once and fit
            # the head on it. Same model, same result, a fraction of the time.
            log.info("phase 1: frozen base, head on cached features (no augmentation)")
            for part, x in (("train", xtr), ("val", xva), ("test", xte)):
                feats[part] = (base.predict(x.astype(np.float32) / 127.5 - 1.0, batch_size=64, verbose=0) if len(x)
                               else np.zeros((0, base.output_shape[-1]), np.float32))
            val = (feats["val"], _onehot(yva, k)) if has_val else None
            h = head.fit(feats["train"], _onehot(ytr, k), validation_data=val, epochs=s.epochs, batch_size=s.batch,
                         class_weight=cw, callbacks=_callbacks(s, has_val)[1:], verbose=2)
        else:
            log.info("phase 1: frozen base, augmented frames through the whole model")
            h = fit_frames(s.lr, s.epochs, s.seed, _augmenter(s.seed))
        _merge(history, h, True)

    if s.fine_tune_epochs:
        n = M.unfreeze(model, s.unfreeze)
        log.info("phase 2: fine-tuning %d layers of the base at lr %g", n, s.fine_tune_lr)
        h = fit_frames(s.fine_tune_lr, s.fine_tune_epochs, s.seed + 1, _augmenter(s.seed + 100) if s.augment else None)
        _merge(history, h, True)
        feats = {}  # the base changed: features computed before are stale

    def predict(part: str, x: np.ndarray) -> np.ndarray:
        if part in feats:
            return head.predict(feats[part], batch_size=256, verbose=0).argmax(1)
        return model.predict(x.astype(np.float32), batch_size=64, verbose=0).argmax(1) if len(x) else np.zeros(0, int)

    evaluation, per_clip = {}, {}
    preds = {p: predict(p, x) for p, x in (("train", xtr), ("val", xva), ("test", xte))}
    for part, y in (("train", ytr), ("val", yva), ("test", yte)):
        if len(y):
            evaluation[part] = report.metrics(y, preds[part], labels)
    offsets = {p: 0 for p in preds}  # gather() concatenated each part's clips in this same order
    for c in clips:
        part = split.assignment[c.name]
        o = offsets[part]
        p = preds[part][o : o + len(c.labels)]
        offsets[part] += len(c.labels)
        per_clip[c.name] = {"split": part, "group": c.group, "frames": int(len(c.labels)),
                            "accuracy": round(float((p == c.labels).mean()), 4)}

    model.save(s.out / "model.keras")
    (s.out / "checkpoint.keras").unlink(missing_ok=True)
    rep = {
        "homegym_version": __version__,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "duration_s": round(time.time() - t0, 1),
        "machine": {"platform": platform.platform(), "processor": platform.processor() or platform.machine(), "cpus": os.cpu_count()},
        "labels": list(labels),
        "model": {"file": "model.keras", "input": "RGB uint8-range float, NHWC", "size": s.size, "alpha": s.alpha, "weights": s.weights,
                  "framing": framing.to_dict(), "dense": s.dense, "dropout": s.dropout, "params": int(model.count_params())},
        "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(s).items() if k not in ("data", "out")},
        "data": {
            "sources": [str(p) for p in s.data],
            "clips": {c.name: {"source": c.source, "group": c.group, "split": split.assignment[c.name], "frames": int(len(c.labels)),
                               "per_label": {labels[i]: int(n) for i, n in enumerate(np.bincount(c.labels, minlength=k)) if n}}
                    for c in clips},
        },
        "split": {"seed": split.seed, "method": split.method,
                  "frames": {"train": int(len(ytr)), "val": int(len(yva)), "test": int(len(yte))},
                  "clips": {p: sorted(n for n, a in split.assignment.items() if a == p)
                            for p in (dataset.TRAIN, dataset.VAL, dataset.TEST)}},
        "class_weights": {labels[i]: round(w, 4) for i, w in cw.items()},
        "history": history,
        "evaluation": evaluation,
        "per_clip": per_clip,
    }
    path = report.write(s.out, rep)
    log.info("wrote %s and %s", s.out / "model.keras", path)
    return rep


def _augmenter(seed: int):
    from . import augment

    return augment.pipeline(seed)
