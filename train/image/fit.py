"""``homegym train``: load and split the data, fit the seed's model, evaluate it honestly, write the report."""

from __future__ import annotations

import logging
import os
import platform
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from homegym import __version__
from homegym.core.errors import UserError
from homegym.core.framing import Framing

from .. import keras_import, report
from . import dataset
from . import model as M
from .settings import ImageSettings

log = logging.getLogger(__name__)


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


def _callbacks(s: ImageSettings, has_val: bool, monitor: str = "loss"):
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


@dataclass
class _Data:
    """The decoded clips, split by clip, and each side's frames and labels."""

    clips: list[dataset.Clip]
    labels: tuple[str, ...]
    split: dataset.Split
    parts: dict[str, tuple[np.ndarray, np.ndarray]]  # train / val / test: (frames, label indices)

    @property
    def k(self) -> int:
        return len(self.labels)

    def x(self, part: str) -> np.ndarray:
        return self.parts[part][0]

    def y(self, part: str) -> np.ndarray:
        return self.parts[part][1]


PARTS = (dataset.TRAIN, dataset.VAL, dataset.TEST)


def _load(s: ImageSettings) -> _Data:
    """Decode, split by clip, gather each side; a side without frames or a label without training frames is an error."""
    sources = dataset.discover(s.data, s.exercises)
    log.info("found %d clips; decoding frames at %dx%d, stride %d, framing %s", len(sources), s.size, s.size, s.stride, s.framing)
    clips, labels = dataset.load(sources, s.size, s.stride, s.cache, Framing(s.framing), masks=s.masks)
    split = dataset.split_clips(clips, s.seed, s.test_fraction, s.val_fraction)
    data = _Data(clips, tuple(labels), split, {p: dataset.gather(clips, split, p) for p in PARTS})
    ytr = data.y(dataset.TRAIN)
    log.info("labels %s; frames train %d, validation %d, held-out %d", list(labels), len(ytr), len(data.y(dataset.VAL)),
             len(data.y(dataset.TEST)))
    if len(ytr) == 0 or len(data.y(dataset.TEST)) == 0:
        raise UserError("no labelled frames on one side of the split")
    missing = [labels[i] for i in range(data.k) if not (ytr == i).any()]
    if missing:
        raise UserError(f"no training frames for label(s) {missing}: add clips with them or drop those labels")
    return data


class _Fitter:
    """The model and the two phases that fit it: the head on a frozen base, then the top of the base fine-tuned."""

    def __init__(self, s: ImageSettings, data: _Data) -> None:
        self.s, self.data = s, data
        self.model = M.build(data.labels, s.size, s.alpha, s.weights, s.dense, s.dropout)
        self.base, self.head = self.model.get_layer(M.BASE_NAME), self.model.get_layer(M.HEAD_NAME)
        self.cw = _class_weights(data.y(dataset.TRAIN), data.k)
        self.has_val = len(data.y(dataset.VAL)) > 0
        self.history: dict = {}
        self.feats: dict[str, np.ndarray] = {}  # the frozen base's output per part, while it stays frozen
        self.pose_net = None
        self.ptr: np.ndarray | None = None  # the joint angles of the training frames (--pose-aux), NaN unknown
        self.pva: np.ndarray | None = None  # of the validation frames
        self.swap, self.xtr_in = None, data.x(dataset.TRAIN)

    def with_pose_head(self) -> None:
        """--pose-aux: a joint-angle head beside the labels, trained on the pose traces' angles."""
        clips, split = self.data.clips, self.data.split
        ptr = dataset.gather_pose(clips, split, dataset.TRAIN)
        if not np.isfinite(ptr).any():
            raise UserError("--pose-aux needs pose traces (poses/<clip>.json beside a clip manifest); none of the training clips has one")
        log.info("pose auxiliary: %.0f%% of training frames have a known joint angle", 100 * np.isfinite(ptr).any(axis=1).mean())
        self.ptr, self.pva = ptr, dataset.gather_pose(clips, split, dataset.VAL)
        self.pose_net = M.with_pose_head(self.model, ptr.shape[1])

    def with_background_swap(self) -> None:
        """--background-swap: each training frame carries its person mask as a 4th channel for the swap."""
        from . import augment

        clips, split, s = self.data.clips, self.data.split, self.s
        plates = dataset.background_plates(clips, split, dataset.TRAIN)
        self.xtr_in = np.concatenate([self.data.x(dataset.TRAIN), dataset.gather_masks(clips, split, dataset.TRAIN)[..., None]], axis=-1)
        self.swap = augment.background_swap(plates, s.background_swap)
        log.info("background swap: %.0f%% of training frames in front of %d rooms of the training clips (%.0f%% of frames masked)",
                 100 * s.background_swap, len(plates), 100 * float((self.xtr_in[..., 3] < 255).any(axis=(1, 2)).mean()))

    def fit_frames(self, lr: float, epochs: int, seed: int, aug):
        """Fit on frames through the whole model: the labels alone, or with --pose-aux the labels and the
        joint angles (the class weights then go into the loss: Keras weighs classes of one output only)."""
        keras, s, k, d = keras_import.keras(), self.s, self.data.k, self.data
        if self.pose_net is None:
            net, kw, monitor = self.model, {"class_weight": self.cw}, "loss"
            net.compile(optimizer=keras.optimizers.Adam(lr), loss="categorical_crossentropy", metrics=["accuracy"])
        else:
            net, kw, monitor = self.pose_net, {}, f"{M.HEAD_NAME}_loss"
            net.compile(optimizer=keras.optimizers.Adam(lr), loss=[M.weighted_crossentropy([self.cw[i] for i in range(k)]), M.masked_mse],
                        loss_weights=[1.0, s.pose_aux], metrics=[["accuracy"], []])
        val = _image_ds(d.x(dataset.VAL), _targets(d.y(dataset.VAL), k, self.pva), s.batch, None) if self.has_val else None
        return net.fit(_image_ds(self.xtr_in, _targets(d.y(dataset.TRAIN), k, self.ptr), s.batch, seed, aug, self.swap),
                       validation_data=val, epochs=epochs, steps_per_epoch=s.steps_per_epoch,
                       callbacks=_callbacks(s, self.has_val, monitor), verbose=2, **kw)

    def frozen_phase(self) -> None:
        keras, s, d, k = keras_import.keras(), self.s, self.data, self.data.k
        self.head.compile(optimizer=keras.optimizers.Adam(s.lr), loss="categorical_crossentropy", metrics=["accuracy"])
        if not s.augment:
            # Frozen base, no augmentation: the base's output never changes, so compute it once and fit
            # the head on it. Same model, same result, a fraction of the time.
            log.info("phase 1: frozen base, head on cached features (no augmentation)")
            for part in PARTS:
                x = d.x(part)
                self.feats[part] = (self.base.predict(x.astype(np.float32) / 127.5 - 1.0, batch_size=64, verbose=0) if len(x)
                                    else np.zeros((0, self.base.output_shape[-1]), np.float32))
            val = (self.feats[dataset.VAL], _onehot(d.y(dataset.VAL), k)) if self.has_val else None
            h = self.head.fit(self.feats[dataset.TRAIN], _onehot(d.y(dataset.TRAIN), k), validation_data=val, epochs=s.epochs,
                              batch_size=s.batch, class_weight=self.cw, callbacks=_callbacks(s, self.has_val)[1:], verbose=2)
        else:
            log.info("phase 1: frozen base, augmented frames through the whole model")
            h = self.fit_frames(s.lr, s.epochs, s.seed, _augmenter(s.seed))
        _merge(self.history, h, True)

    def fine_tune_phase(self) -> None:
        s = self.s
        n = M.unfreeze(self.model, s.unfreeze)
        log.info("phase 2: fine-tuning %d layers of the base at lr %g", n, s.fine_tune_lr)
        h = self.fit_frames(s.fine_tune_lr, s.fine_tune_epochs, s.seed + 1, _augmenter(s.seed + 100) if s.augment else None)
        _merge(self.history, h, True)
        self.feats = {}  # the base changed: features computed before are stale

    def predict(self, part: str) -> np.ndarray:
        x = self.data.x(part)
        if part in self.feats:
            return self.head.predict(self.feats[part], batch_size=256, verbose=0).argmax(1)
        return self.model.predict(x.astype(np.float32), batch_size=64, verbose=0).argmax(1) if len(x) else np.zeros(0, int)


def _evaluate(data: _Data, preds: dict[str, np.ndarray]) -> tuple[dict, dict]:
    """Each side's figures, and each clip's accuracy on its side."""
    evaluation = {part: report.metrics(data.y(part), preds[part], data.labels) for part in PARTS if len(data.y(part))}
    per_clip, offsets = {}, {p: 0 for p in preds}  # gather() concatenated each part's clips in this same order
    for c in data.clips:
        part = data.split.assignment[c.name]
        o = offsets[part]
        p = preds[part][o : o + len(c.labels)]
        offsets[part] += len(c.labels)
        per_clip[c.name] = {"split": part, "group": c.group, "frames": int(len(c.labels)),
                            "accuracy": round(float((p == c.labels).mean()), 4)}
    return evaluation, per_clip


def _report(s: ImageSettings, data: _Data, fitter: _Fitter, evaluation: dict, per_clip: dict, t0: float) -> dict:
    labels, split, k = data.labels, data.split, data.k
    return {
        "homegym_version": __version__,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "duration_s": round(time.time() - t0, 1),
        "machine": {"platform": platform.platform(), "processor": platform.processor() or platform.machine(), "cpus": os.cpu_count()},
        "labels": list(labels),
        "model": {"file": "model.keras", "input": "RGB uint8-range float, NHWC", "size": s.size, "alpha": s.alpha, "weights": s.weights,
                  "framing": Framing(s.framing).to_dict(), "dense": s.dense, "dropout": s.dropout,
                  "params": int(fitter.model.count_params())},
        "settings": {k_: (str(v) if isinstance(v, Path) else v) for k_, v in asdict(s).items() if k_ not in ("data", "out")},
        "data": {
            "sources": [str(p) for p in s.data],
            "clips": {c.name: {"source": c.source, "group": c.group, "split": split.assignment[c.name], "frames": int(len(c.labels)),
                               "per_label": {labels[i]: int(n) for i, n in enumerate(np.bincount(c.labels, minlength=k)) if n}}
                      for c in data.clips},
        },
        "split": {"seed": split.seed, "method": split.method,
                  "frames": {p: int(len(data.y(p))) for p in PARTS},
                  "clips": {p: sorted(n for n, a in split.assignment.items() if a == p) for p in PARTS}},
        "class_weights": {labels[i]: round(w, 4) for i, w in fitter.cw.items()},
        "history": fitter.history,
        "evaluation": evaluation,
        "per_clip": per_clip,
    }


def run(s: ImageSettings) -> dict:
    """Load and split, fit the head then fine-tune, evaluate each side honestly, write the model and its report."""
    s.check()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    t0 = time.time()
    data = _load(s)
    keras_import.keras().utils.set_random_seed(s.seed)
    s.out.mkdir(parents=True, exist_ok=True)
    fitter = _Fitter(s, data)
    if s.pose_aux > 0:
        fitter.with_pose_head()
    if s.background_swap > 0:
        fitter.with_background_swap()
    if s.epochs:
        fitter.frozen_phase()
    if s.fine_tune_epochs:
        fitter.fine_tune_phase()
    evaluation, per_clip = _evaluate(data, {part: fitter.predict(part) for part in PARTS})
    fitter.model.save(s.out / "model.keras")
    (s.out / "checkpoint.keras").unlink(missing_ok=True)
    rep = _report(s, data, fitter, evaluation, per_clip, t0)
    path = report.write(s.out, rep)
    log.info("wrote %s and %s", s.out / "model.keras", path)
    return rep


def _augmenter(seed: int):
    from . import augment

    return augment.pipeline(seed)
