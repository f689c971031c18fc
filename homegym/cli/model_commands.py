"""Commands that make a model: ``train`` (Keras, the train extra) and ``convert`` (to an OpenVINO IR)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from homegym.core.errors import UserError
from homegym.core.runtime import DEFAULT_CACHE

from .parsing import add, size


def exercise_list(text: str) -> tuple[str, ...]:
    """``--exercises pushup,squat``: each name once (training checks them, in one line)."""
    return tuple(dict.fromkeys(n.strip() for n in text.split(",") if n.strip()))


def _exercises(a: argparse.Namespace) -> dict[str, Any]:
    """``--exercises`` where given; the settings' default otherwise."""
    return {"exercises": a.exercises} if a.exercises is not None else {}


def train(a: argparse.Namespace) -> int:
    from homegym.train.report import table

    if a.kind == "keypoints":
        return _train_keypoints(a)
    if a.tracks is not None:
        raise UserError("--tracks are the keypoint classifier's input: they need --kind keypoints")
    from homegym.train.fit import TrainSettings, run

    cache: dict[str, Any] = {"cache": None if str(a.cache) == "none" else a.cache} if a.cache is not None else {}
    s = TrainSettings(
        data=a.data, out=a.out, size=a.size, alpha=a.alpha, weights=a.weights, epochs=10 if a.epochs is None else a.epochs,
        batch=a.batch or 32, lr=a.lr, dropout=0.2 if a.dropout is None else a.dropout,
        dense=a.dense, stride=a.stride, framing=a.framing, augment=a.augment, fine_tune_epochs=a.fine_tune_epochs,
        fine_tune_lr=a.fine_tune_lr,
        pose_aux=a.pose_aux, masks=a.masks, background_swap=a.background_swap,
        unfreeze=None if a.unfreeze == "all" else int(a.unfreeze), seed=a.seed, test_fraction=a.test_fraction,
        val_fraction=a.val_fraction, patience=a.patience, steps_per_epoch=a.steps_per_epoch,
        **cache, **_exercises(a),
    )
    rep = run(s)
    print(table(rep))
    print(f"model: {a.out / 'model.keras'}  report: {a.out / 'report.json'}")
    return 0


def _train_keypoints(a: argparse.Namespace) -> int:
    from homegym.train.keypoint_fit import KeypointSettings, run
    from homegym.train.report import table

    if any(d.suffix != ".csv" for d in a.data):
        raise UserError("--kind keypoints trains on clip manifests (clips.csv) with rep marks")
    if a.tracks is None:
        raise UserError("--kind keypoints needs --tracks DIR: the clips' keypoints (homegym poses MANIFEST -o DIR)")
    s = KeypointSettings(manifests=a.data, tracks=a.tracks, out=a.out, label_poses=a.label_poses,
                         hidden=tuple(a.hidden), epochs=a.epochs if a.epochs is not None else 30, batch=a.batch or 256,
                         lr=a.lr, folds=a.folds, seed=a.seed, postures=a.postures, mirror=a.augment,
                         views=a.views if a.augment else 0, ensemble=a.ensemble, pushup_gate=tuple(a.pushup_gate),
                         dropout=0.3 if a.dropout is None else a.dropout, **_exercises(a))
    rep = run(s)
    print(table(rep))
    print(f"model: {a.out / 'model.keras'}  report: {a.out / 'report.json'}" +
          (f"  out-of-fold probabilities: {a.out / 'oof.npz'}" if a.folds else ""))
    return 0


def convert(a: argparse.Namespace) -> int:
    from homegym.convert import pose
    from homegym.convert.run import ConvertSettings, run, summary

    if pose.is_pose_source(a.model):
        print(pose.summary(pose.run(a.model, a.out, a.precision)))
        return 0
    from homegym.convert import keypoint_ir

    report = a.report or Path(a.model).parent / "report.json"
    if Path(a.model).suffix == ".keras" and keypoint_ir.is_keypoint_report(report):
        print(keypoint_ir.summary(keypoint_ir.run(a.model, a.out, a.precision, a.report, a.device,
                                                  None if str(a.cache_dir) == "none" else a.cache_dir)))
        return 0

    s = ConvertSettings(model=a.model, out=a.out, precision=a.precision, batch=a.batch, working_size=a.working_size,
                        device=a.device, cache_dir=None if str(a.cache_dir) == "none" else a.cache_dir, report=a.report,
                        data=a.data, stride=a.stride, calibration_frames=a.calibration_frames)
    print(summary(run(s)))
    return 0


def register(sub: Any) -> None:
    s = add(sub, "train", "train a classifier (the keypoint classifier on the pose stage, or the MobileNetV2 image classifier) "
             "and write model.keras plus an honest report",
             "  homegym poses ../shared/data/clips.csv -o keys/ && homegym train ../shared/data/clips.csv --tracks keys/ -o runs/kp\n"
             "  homegym train --kind image labels/ -o runs/seed --weights mobilenet_v2_1.0_no_top_imagenet.weights.h5\n"
             "  homegym train --kind image clips/ -o runs/tiny --weights none --alpha 0.35 --size 96 --epochs 2\n", train)
    s.add_argument("--kind", choices=["keypoints", "image"], default="keypoints",
                   help="keypoints (default, the shipped kind): an MLP on the pose stage's keypoints; image: the seed's MobileNetV2")
    s.add_argument("data", type=Path, nargs="+",
                   help="folders of labels files or label-named image folders, labels files, or rep manifests (.csv)")
    s.add_argument("-o", "--out", type=Path, required=True, help="output folder for model.keras, report.json, curves.png, confusion.png")
    s.add_argument("--exercises", type=exercise_list, metavar="A,B",
                   help="the exercises the model learns to count (default: the shipped models' pushup,squat); a manifest's "
                   "clips of other exercises are movements it must not count")
    s.add_argument("--size", type=int, default=160, help="model input size in pixels (default 160)")
    s.add_argument("--alpha", type=float, default=1.0, help="MobileNetV2 width multiplier (default 1.0)")
    s.add_argument("--weights", default="imagenet",
                   help="'imagenet' (Keras download, cached in ~/.keras/models), 'none', or a .weights.h5 file")
    s.add_argument("--tracks", type=Path, nargs="+",
                   help="keypoints: the folder(s) of the clips' keypoint files (homegym poses MANIFEST -o DIR)")
    s.add_argument("--label-poses", type=Path,
                   help="keypoints: pose traces that sharpen the rep-mark labels, as label --from-reps "
                        "(default: poses/ beside the manifest)")
    s.add_argument("--hidden", type=int, nargs="+", default=[96, 48], help="keypoints: units of the hidden layers (default 96 48)")
    s.add_argument("--folds", type=int, default=5,
                   help="keypoints: cross-validation folds by source, for honest figures and tune --oof (default 5; 0: none)")
    s.add_argument("--postures", choices=["out", "up", "neither"], default="out",
                   help="keypoints: the standing / plank frames of clips of other movements: left out (as label --from-reps), "
                        "the top they are (squat_up / pushup_up), or neither (default out, as the shipped model)")
    s.add_argument("--views", type=int, default=0,
                   help="keypoints: rotated views of each clip rebuilt from its world landmarks, beside the mirror (default 0)")
    s.add_argument("--ensemble", type=int, default=1,
                   help="keypoints: models from consecutive seeds averaged into the one shipped (default 1)")
    s.add_argument("--pushup-gate", type=float, nargs=2, default=[0.7, 1.0], metavar=("FROM", "TO"),
                   help="keypoints: push-up phases fade out as the torso's uprightness (|cos| to the vertical) rises from FROM "
                        "to TO (default 0.7 1.0; 1 1: off)")
    s.add_argument("--dropout", type=float, help="dropout rate (default 0.3 keypoints, 0.2 image)")
    s.add_argument("--epochs", type=int, help="epochs (image: with the base frozen; default 30 keypoints, 10 image)")
    s.add_argument("--fine-tune-epochs", type=int, default=0, help="epochs with the top of the base unfrozen (default 0)")
    s.add_argument("--unfreeze", default="30", help="layers of the base to unfreeze for fine-tuning, or 'all' (default 30)")
    s.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate (default 1e-3)")
    s.add_argument("--fine-tune-lr", type=float, default=1e-5, help="learning rate when fine-tuning (default 1e-5)")
    s.add_argument("--pose-aux", type=float, default=0.0,
                   help="weight of a training-only joint-angle regression beside the labels, from pose traces (default 0: off)")
    s.add_argument("--masks", type=Path, help="folder of person masks (<clip>.npz, from scripts/person_masks.py) for --background-swap")
    s.add_argument("--background-swap", type=float, default=0.0,
                   help="share of augmented training frames whose person is put in front of another clip's room (default 0: off)")
    s.add_argument("--batch", type=int, help="batch size (default 256 keypoints, 32 image)")
    s.add_argument("--dense", type=int, default=128, help="units of the Dense ReLU layer (default 128)")
    s.add_argument("--stride", type=int, default=2, help="use every N-th video frame (default 2)")
    s.add_argument("--framing", default="full", choices=["full", "motion"],
                   help="the model's input: the whole frame, or a crop around what moved (default full, as the shipped model)")
    s.add_argument("--augment", action=argparse.BooleanOptionalAction, default=True,
                   help="augment training frames (default on; keypoints: the left/right mirror)")
    s.add_argument("--seed", type=int, default=0, help="seed of the split, the shuffling and the weights (default 0)")
    s.add_argument("--test-fraction", type=float, default=0.2, help="held-out share of clips without a split column (default 0.2)")
    s.add_argument("--val-fraction", type=float, default=0.1, help="share of training groups for validation (default 0.1)")
    s.add_argument("--patience", type=int, default=4, help="early-stopping patience in epochs (default 4)")
    s.add_argument("--steps-per-epoch", type=int, default=None, help="cap the steps of an epoch (quick runs)")
    s.add_argument("--cache", type=Path, default=None, help="decoded-frame cache folder, or 'none' (default ~/.cache/homegym/frames)")
    s = add(sub, "convert", "compile a trained Keras model to an OpenVINO IR for the NPU or the CPU, checked on real frames",
             "  homegym convert runs/first/model.keras -o models/first\n"
             "  homegym convert runs/first/model.keras -o models/int8 --precision int8 --device AUTO:NPU,CPU\n"
             "  homegym convert model.keras -o models/npu --device NPU --batch 1 --working-size 320x240\n"
             "  homegym convert models/first -o models/first_int8 --precision int8      # from an IR: no TensorFlow needed\n"
             "  homegym convert mediapipe-0.10.14-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl -o models/pose "
             "--precision fp16\n", convert)
    s.add_argument("model", type=Path, help="the model.keras written by 'homegym train' (its report.json beside it), an IR "
                   "written by convert (model.xml or its folder, train_report.json beside it) to re-convert, e.g. to int8, "
                   "or MediaPipe's pose models: the mediapipe 0.10.14 wheel, or a folder with its pose .tflite files")
    s.add_argument("-o", "--out", type=Path, required=True,
                   help="output folder: model.xml, model.bin, convert_report.json, train_report.json")
    s.add_argument("--precision", default="fp32", choices=["fp32", "fp16", "int8"],
                   help="default fp32; int8 is NNCF post-training quantization (pose models: fp16 or fp32 weights)")
    s.add_argument("--batch", type=int, default=4, help="static batch size (the NPU compiles only static shapes; default 4, the daemon's)")
    s.add_argument("--working-size", type=size, default=None, help="WIDTHxHEIGHT of the frames the IR takes (default: the model's size)")
    s.add_argument("--device", default="CPU", help="CPU, NPU, GPU, AUTO or AUTO:NPU,CPU (compiled here as a check; default CPU)")
    s.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE, help=f"OpenVINO model cache, or 'none' (default {DEFAULT_CACHE})")
    s.add_argument("--report", type=Path,
                   help="the training report (default: report.json beside the model, train_report.json beside an IR)")
    s.add_argument("--data", type=Path, nargs="+", help="the training data, if it moved since training (for calibration and the checks)")
    s.add_argument("--stride", type=int, default=3, help="sample every N-th video frame for the checks (default 3)")
    s.add_argument("--calibration-frames", type=int, default=300, help="training frames for INT8 calibration (default 300)")
