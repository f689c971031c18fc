"""Commands that make a model: ``train`` (Keras, the train extra) and ``convert`` (to an OpenVINO IR)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from homegym.core.errors import UserError
from homegym.core.exercises import EXERCISES
from homegym.core.runtime import DEFAULT_CACHE

from .parsing import add, size


def exercise_list(text: str) -> tuple[str, ...]:
    """``--exercises pushup,squat``: each name once (training checks them, in one line); ``all``: the eight."""
    if text.strip() == "all":
        return EXERCISES
    return tuple(dict.fromkeys(n.strip() for n in text.split(",") if n.strip()))


def _given(a: argparse.Namespace, *names: str) -> dict[str, Any]:
    """The flags among ``names`` given on the command line: the settings' own defaults stand for the rest."""
    return {n: getattr(a, n) for n in names if getattr(a, n) is not None}


SHARED = ("epochs", "batch", "lr", "dropout", "seed", "exercises")  # flags both kinds take


def train(a: argparse.Namespace) -> int:
    from homegym.train.report import table

    if a.kind == "keypoints":
        return _train_keypoints(a)
    if a.tracks is not None:
        raise UserError("--tracks are the keypoint classifier's input: they need --kind keypoints")
    from homegym.train.image.fit import run
    from homegym.train.image.settings import ImageSettings

    given = _given(a, *SHARED, "size", "alpha", "weights", "dense", "stride", "framing", "augment", "fine_tune_epochs",
                   "fine_tune_lr", "pose_aux", "masks", "background_swap", "test_fraction", "val_fraction", "patience",
                   "steps_per_epoch", "cache", "unfreeze")
    if "cache" in given and str(given["cache"]) == "none":
        given["cache"] = None
    if "unfreeze" in given:
        given["unfreeze"] = None if given["unfreeze"] == "all" else int(given["unfreeze"])
    rep = run(ImageSettings(data=a.data, out=a.out, **given))
    print(table(rep))
    print(f"model: {a.out / 'model.keras'}  report: {a.out / 'report.json'}")
    return 0


def _train_keypoints(a: argparse.Namespace) -> int:
    from homegym.train.keypoints.fit import run
    from homegym.train.keypoints.settings import KeypointSettings
    from homegym.train.report import table

    if any(d.suffix != ".csv" for d in a.data):
        raise UserError("--kind keypoints trains on clip manifests (clips.csv) with rep marks")
    if a.tracks is None:
        raise UserError("--kind keypoints needs --tracks DIR: the clips' keypoints (homegym poses MANIFEST -o DIR)")
    given = _given(a, *SHARED, "label_poses", "folds", "postures", "views", "ensemble", "features")
    if a.hidden is not None:
        given["hidden"] = tuple(a.hidden)
    for gate in ("pushup_gate", "upright_gate"):
        if getattr(a, gate) is not None:
            given[gate] = tuple(getattr(a, gate))
    if a.augment is False:  # the mirror, and the rotated views beside it
        given.update(mirror=False, views=0)
    s = KeypointSettings(manifests=a.data, tracks=a.tracks, out=a.out, **given)
    rep = run(s)
    print(table(rep))
    print(f"model: {a.out / 'model.keras'}  report: {a.out / 'report.json'}" +
          (f"  out-of-fold probabilities: {a.out / 'oof.npz'}" if s.folds else ""))
    return 0


def convert(a: argparse.Namespace) -> int:
    from homegym.convert import pose
    from homegym.convert.run import ConvertSettings, run, summary

    if all(pose.is_pose_source(m) for m in a.model):
        models = [m.strip() for m in a.pose_models.split(",") if m.strip()] if a.pose_models else None
        print(pose.summary(pose.run(a.model, a.out, a.precision, models)))
        return 0
    if len(a.model) > 1:
        raise UserError("convert takes one model (several sources only for MediaPipe's pose models)")
    if a.pose_models:
        raise UserError("--pose-models is for MediaPipe's pose models (the wheel, the npm tarball or their .tflite files)")
    a.model = a.model[0]
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
    from homegym.train.image.settings import ImageSettings as Img
    from homegym.train.keypoints.settings import KeypointSettings as Kp

    s = add(sub, "train", "train a classifier (the keypoint classifier on the pose stage, or the MobileNetV2 image classifier) "
             "and write model.keras plus an honest report",
             "  homegym poses ../shared/data/clips.csv -o keys/ && homegym train ../shared/data/clips.csv --tracks keys/ -o runs/kp\n"
             "  homegym train --kind image labels/ -o runs/seed --weights mobilenet_v2_1.0_no_top_imagenet.weights.h5\n"
             "  homegym train --kind image clips/ -o runs/tiny --weights none --alpha 0.35 --size 96 --epochs 2\n", train)
    s.add_argument("--kind", choices=["keypoints", "image"], default="keypoints",
                   help="keypoints (default, the shipped kind): an MLP on the pose stage's keypoints; image: MobileNetV2 on frames")
    s.add_argument("data", type=Path, nargs="+",
                   help="folders of labels files or label-named image folders, labels files, or rep manifests (.csv)")
    s.add_argument("-o", "--out", type=Path, required=True, help="output folder for model.keras, report.json, curves.png, confusion.png")
    s.add_argument("--exercises", type=exercise_list, metavar="A,B",
                   help="the exercises the model learns to count (default pushup,squat; all: the "
                   "eight); a manifest's clips of other exercises are movements it must not count")
    s.add_argument("--size", type=int, help=f"image: model input size in pixels (default {Img.size})")
    s.add_argument("--alpha", type=float, help=f"image: MobileNetV2 width multiplier (default {Img.alpha})")
    s.add_argument("--weights", help=f"image: 'imagenet' (Keras download, cached in ~/.keras/models), 'none', or a .weights.h5 file "
                   f"(default {Img.weights})")
    s.add_argument("--tracks", type=Path, nargs="+",
                   help="keypoints: the folder(s) of the clips' keypoint files (homegym poses MANIFEST -o DIR)")
    s.add_argument("--label-poses", type=Path,
                   help="keypoints: MediaPipe traces (poses/<clip>.json) that sharpen the rep-mark labels instead of "
                        "the clips' own keypoints (default: the keypoints, what the model sees)")
    s.add_argument("--hidden", type=int, nargs="+", help=f"keypoints: units of the hidden layers (default {' '.join(map(str, Kp.hidden))})")
    s.add_argument("--folds", type=int,
                   help=f"keypoints: cross-validation folds by source, for honest figures and tune --oof (default {Kp.folds}; 0: none)")
    s.add_argument("--postures", choices=["out", "up", "neither"],
                   help="keypoints: the standing / plank frames of clips of other movements: left out (as label --from-reps), "
                        "the top they are (squat_up / pushup_up), or neither (default out, as the shipped model)")
    s.add_argument("--views", type=int,
                   help=f"keypoints: rotated views of each clip rebuilt from its world landmarks, beside the mirror (default {Kp.views})")
    s.add_argument("--ensemble", type=int,
                   help=f"keypoints: models from consecutive seeds averaged into the one shipped (default {Kp.ensemble})")
    s.add_argument("--pushup-gate", type=float, nargs=2, metavar=("FROM", "TO"),
                   help="keypoints: push-up phases fade out as the torso's uprightness (|cos| to the vertical) rises from FROM "
                        f"to TO (default {Kp.pushup_gate[0]} {Kp.pushup_gate[1]}; 1 1: off)")
    s.add_argument("--upright-gate", type=float, nargs=2, metavar=("FROM", "TO"),
                   help="keypoints: the phases of exercises done standing or hanging fade out as the torso's uprightness "
                        f"falls from TO to FROM (default {Kp.upright_gate[0]} {Kp.upright_gate[1]}; 1 1: off)")
    s.add_argument("--features", metavar="VERSION",
                   help=f"keypoints: the features' version (default {Kp.features}; an older one for a daemon that computes only it)")
    s.add_argument("--dropout", type=float, help=f"dropout rate (default {Kp.dropout} keypoints, {Img.dropout} image)")
    s.add_argument("--epochs", type=int, help=f"epochs (image: with the base frozen; default {Kp.epochs} keypoints, {Img.epochs} image)")
    s.add_argument("--fine-tune-epochs", type=int, help=f"image: epochs with the top of the base unfrozen (default {Img.fine_tune_epochs})")
    s.add_argument("--unfreeze", help=f"image: layers of the base to unfreeze for fine-tuning, or 'all' (default {Img.unfreeze})")
    s.add_argument("--lr", type=float, help=f"Adam learning rate (default {Kp.lr:g} keypoints, {Img.lr:g} image)")
    s.add_argument("--fine-tune-lr", type=float, help=f"image: learning rate when fine-tuning (default {Img.fine_tune_lr:g})")
    s.add_argument("--pose-aux", type=float,
                   help="image: weight of a training-only joint-angle regression beside the labels, from pose traces "
                   f"(default {Img.pose_aux:g}: off)")
    s.add_argument("--masks", type=Path, help="folder of person masks (<clip>.npz, from scripts/person_masks.py) for --background-swap")
    s.add_argument("--background-swap", type=float,
                   help="image: share of augmented training frames whose person is put in front of another clip's room "
                   f"(default {Img.background_swap:g}: off)")
    s.add_argument("--batch", type=int, help=f"batch size (default {Kp.batch} keypoints, {Img.batch} image)")
    s.add_argument("--dense", type=int, help=f"image: units of the Dense ReLU layer (default {Img.dense})")
    s.add_argument("--stride", type=int, help=f"image: use every N-th video frame (default {Img.stride})")
    s.add_argument("--framing", choices=["full", "motion"],
                   help=f"image: the whole frame, or a crop around what moved (default {Img.framing})")
    s.add_argument("--augment", action=argparse.BooleanOptionalAction,
                   help="augment training frames (default on; keypoints: the left/right mirror)")
    s.add_argument("--seed", type=int, help=f"seed of the split, the shuffling and the weights (default {Kp.seed})")
    s.add_argument("--test-fraction", type=float,
                   help=f"image: held-out share of clips without a split column (default {Img.test_fraction})")
    s.add_argument("--val-fraction", type=float, help=f"image: share of training groups for validation (default {Img.val_fraction})")
    s.add_argument("--patience", type=int, help=f"image: early-stopping patience in epochs (default {Img.patience})")
    s.add_argument("--steps-per-epoch", type=int, default=None, help="cap the steps of an epoch (quick runs)")
    s.add_argument("--cache", type=Path, default=None, help="decoded-frame cache folder, or 'none' (default ~/.cache/homegym/frames)")
    s = add(sub, "convert", "compile a trained Keras model to an OpenVINO IR for the NPU or the CPU, checked on real frames",
             "  homegym convert runs/first/model.keras -o models/first\n"
             "  homegym convert runs/first/model.keras -o models/int8 --precision int8 --device AUTO:NPU,CPU\n"
             "  homegym convert model.keras -o models/npu --device NPU --batch 1 --working-size 320x240\n"
             "  homegym convert models/first -o models/first_int8 --precision int8      # from an IR: no TensorFlow needed\n"
             "  homegym convert mediapipe-0.10.14-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl "
             "mediapipe-pose-0.5.1675469404.tgz -o models/pose --precision fp16\n"
             "  homegym convert mediapipe-pose-0.5.1675469404.tgz -o models/pose --precision fp16 --pose-models heavy   # beside a "
             "detector\n", convert)
    s.add_argument("model", type=Path, nargs="+", help="the model.keras written by 'homegym train' (its report.json beside it), "
                   "an IR written by convert (model.xml or its folder, train_report.json beside it) to re-convert, e.g. to "
                   "int8, or MediaPipe's pose models: the mediapipe 0.10.14 wheel (the detector and full), the npm package "
                   "@mediapipe/pose 0.5.1675469404 as npm pack writes it (lite, full, heavy), or folders of their .tflite files")
    s.add_argument("--pose-models", metavar="LIST", help="pose sources: the landmark models to convert, of lite,full,heavy "
                   "(default lite and full, those the sources hold; heavy on demand)")
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
