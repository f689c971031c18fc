"""Commands that make a model: ``train`` (Keras, the train extra) and ``convert`` (to an OpenVINO IR)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from homegym.core.runtime import DEFAULT_CACHE

from .parsing import add, size


def train(a: argparse.Namespace) -> int:
    from homegym.train.fit import TrainSettings, run
    from homegym.train.report import table

    cache: dict[str, Any] = {"cache": None if str(a.cache) == "none" else a.cache} if a.cache is not None else {}
    s = TrainSettings(
        data=a.data, out=a.out, size=a.size, alpha=a.alpha, weights=a.weights, epochs=a.epochs, batch=a.batch, lr=a.lr,
        dense=a.dense, stride=a.stride, framing=a.framing, augment=a.augment, fine_tune_epochs=a.fine_tune_epochs,
        fine_tune_lr=a.fine_tune_lr,
        pose_aux=a.pose_aux, masks=a.masks, background_swap=a.background_swap,
        unfreeze=None if a.unfreeze == "all" else int(a.unfreeze), seed=a.seed, test_fraction=a.test_fraction,
        val_fraction=a.val_fraction, patience=a.patience, steps_per_epoch=a.steps_per_epoch,
        **cache,
    )
    rep = run(s)
    print(table(rep))
    print(f"model: {a.out / 'model.keras'}  report: {a.out / 'report.json'}")
    return 0


def convert(a: argparse.Namespace) -> int:
    from homegym.convert import pose
    from homegym.convert.run import ConvertSettings, run, summary

    if pose.is_pose_source(a.model):
        print(pose.summary(pose.run(a.model, a.out, a.precision)))
        return 0

    s = ConvertSettings(model=a.model, out=a.out, precision=a.precision, batch=a.batch, working_size=a.working_size,
                        device=a.device, cache_dir=None if str(a.cache_dir) == "none" else a.cache_dir, report=a.report,
                        data=a.data, stride=a.stride, calibration_frames=a.calibration_frames)
    print(summary(run(s)))
    return 0


def register(sub: Any) -> None:
    s = add(sub, "train", "train the MobileNetV2 classifier and write model.keras plus an honest report",
             "  homegym train labels/ -o runs/seed --weights ../shared/data/weights/mobilenet_v2_1.0_no_top_imagenet.weights.h5\n"
             "  homegym train ../shared/data/clips.csv -o runs/real --no-augment --size 160\n"
             "  homegym train clips/ -o runs/tiny --weights none --alpha 0.35 --size 96 --epochs 2\n", train)
    s.add_argument("data", type=Path, nargs="+",
                   help="folders of labels files or label-named image folders, labels files, or rep manifests (.csv)")
    s.add_argument("-o", "--out", type=Path, required=True, help="output folder for model.keras, report.json, curves.png, confusion.png")
    s.add_argument("--size", type=int, default=160, help="model input size in pixels (default 160)")
    s.add_argument("--alpha", type=float, default=1.0, help="MobileNetV2 width multiplier (default 1.0)")
    s.add_argument("--weights", default="imagenet",
                   help="'imagenet' (Keras download, cached in ~/.keras/models), 'none', or a .weights.h5 file")
    s.add_argument("--epochs", type=int, default=10, help="epochs with the base frozen (default 10)")
    s.add_argument("--fine-tune-epochs", type=int, default=0, help="epochs with the top of the base unfrozen (default 0)")
    s.add_argument("--unfreeze", default="30", help="layers of the base to unfreeze for fine-tuning, or 'all' (default 30)")
    s.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate (default 1e-3)")
    s.add_argument("--fine-tune-lr", type=float, default=1e-5, help="learning rate when fine-tuning (default 1e-5)")
    s.add_argument("--pose-aux", type=float, default=0.0,
                   help="weight of a training-only joint-angle regression beside the labels, from pose traces (default 0: off)")
    s.add_argument("--masks", type=Path, help="folder of person masks (<clip>.npz, from scripts/person_masks.py) for --background-swap")
    s.add_argument("--background-swap", type=float, default=0.0,
                   help="share of augmented training frames whose person is put in front of another clip's room (default 0: off)")
    s.add_argument("--batch", type=int, default=32, help="batch size (default 32)")
    s.add_argument("--dense", type=int, default=128, help="units of the Dense ReLU layer (default 128)")
    s.add_argument("--stride", type=int, default=2, help="use every N-th video frame (default 2)")
    s.add_argument("--framing", default="full", choices=["full", "motion"],
                   help="the model's input: the whole frame, or a crop around what moved (default full, as the shipped model)")
    s.add_argument("--augment", action=argparse.BooleanOptionalAction, default=True, help="augment training frames (default on)")
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
