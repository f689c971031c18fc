"""The ``homegym`` command. Subcommands import their module only when run, so ``homegym run``
never loads TensorFlow and ``homegym --help`` is instant."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable
from pathlib import Path

from . import __version__
from .errors import UserError

log = logging.getLogger("homegym")


def _size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT, e.g. 640x480, got {text!r}") from None
    if not (16 <= w <= 4096 and 16 <= h <= 4096):
        raise argparse.ArgumentTypeError(f"size out of range 16..4096: {text}")
    return w, h


def _add(sub, name: str, help: str, examples: str, func: Callable[[argparse.Namespace], int]) -> argparse.ArgumentParser:
    p = sub.add_parser(name, help=help, description=help, epilog="examples:\n" + examples,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.set_defaults(func=func)
    return p


# --- subcommands -------------------------------------------------------------------------------


def cmd_synth(a: argparse.Namespace) -> int:
    from .train.synth import render_clip
    from .train.synth.manifest import write_manifest

    kinds = [k.strip() for k in a.kinds.split(",") if k.strip()]
    results = []
    for i in range(a.count):
        r = render_clip(a.out, kinds[i % len(kinds)], a.seed + i, a.duration, a.fps, a.size)
        results.append(r)
        reps = f"{len(r.reps)} reps" + (f", {len(r.partial_reps)} partial" if r.partial_reps else "")
        print(f"{r.video}  {r.activity:8s} {reps}")
    write_manifest(a.out / "clips.csv", results)
    print(f"wrote {len(results)} clips and {a.out / 'clips.csv'}")
    return 0


def cmd_extract(a: argparse.Namespace) -> int:
    from .train.extract import extract

    counts = extract(a.inputs, a.out, a.stride, a.size)
    for label, n in sorted(counts.items()):
        print(f"{label:16s} {n:6d}")
    print(f"wrote {sum(counts.values())} frames under {a.out}")
    return 0


def cmd_label(a: argparse.Namespace) -> int:
    if a.from_reps:
        from .train.from_reps import write_all

        if a.out is None:
            raise UserError("--from-reps needs --out DIR for the labels files")
        written = write_all(a.from_reps, a.out, a.poses)
        print(f"wrote {len(written)} labels files to {a.out}")
        return 0
    if a.video is None:
        raise UserError("give a VIDEO to label, or --from-reps CLIPS.csv")
    from .train.labeller import label_video

    path = label_video(a.video, a.out, a.exercise)
    print(f"labels in {path}")
    return 0


def cmd_train(a: argparse.Namespace) -> int:
    from .train.fit import TrainSettings, run
    from .train.report import table

    s = TrainSettings(
        data=a.data, out=a.out, size=a.size, alpha=a.alpha, weights=a.weights, epochs=a.epochs, batch=a.batch, lr=a.lr,
        dense=a.dense, stride=a.stride, augment=a.augment, fine_tune_epochs=a.fine_tune_epochs, fine_tune_lr=a.fine_tune_lr,
        unfreeze=None if a.unfreeze == "all" else int(a.unfreeze), seed=a.seed, test_fraction=a.test_fraction,
        val_fraction=a.val_fraction, patience=a.patience, steps_per_epoch=a.steps_per_epoch,
        **({"cache": None if str(a.cache) == "none" else a.cache} if a.cache is not None else {}),
    )
    rep = run(s)
    print(table(rep))
    print(f"model: {a.out / 'model.keras'}  report: {a.out / 'report.json'}")
    return 0


# --- parser ------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="homegym",
        description="HomeGym Spotter: count push-ups and squats from a camera; train, convert and run the model.",
        epilog="Run 'homegym COMMAND --help' for a command's options and examples.",
    )
    p.add_argument("--version", action="version", version=f"homegym {__version__}")
    p.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"], help="default INFO")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)

    s = _add(sub, "synth", "render workout clips of a 3D figure with exact labels and rep times",
             "  homegym synth clips/ --count 12 --seed 1\n"
             "  homegym synth clips/ --kinds squat --duration 20 --size 320x240\n", cmd_synth)
    s.add_argument("out", type=Path, help="output folder (NAME.mp4, NAME.labels.csv, NAME.reps.json, clips.csv)")
    s.add_argument("--count", type=int, default=6, help="number of clips (default 6)")
    s.add_argument("--seed", type=int, default=0, help="seed of the first clip; clip i uses seed+i (default 0)")
    s.add_argument("--kinds", default="pushup,squat,neither",
                   help="comma list cycled over the clips: pushup, squat, neither (a random one of walk, stretch, "
                        "kneel, lie, empty), or one of those, or stand (default pushup,squat,neither)")
    s.add_argument("--duration", type=float, default=10.0, help="seconds per clip (default 10)")
    s.add_argument("--fps", type=float, default=30.0, help="frames per second (default 30)")
    s.add_argument("--size", type=_size, default=(640, 480), help="WIDTHxHEIGHT (default 640x480)")

    s = _add(sub, "extract", "sample frames from videos into one folder per label (the seed's image-folder format)",
             "  homegym extract clips/ --out frames/ --stride 5\n"
             "  homegym extract labels/ --out frames/ --size 224x224\n", cmd_extract)
    s.add_argument("inputs", type=Path, nargs="+", help="videos, labels files, or folders of them")
    s.add_argument("--out", type=Path, required=True, help="output folder")
    s.add_argument("--stride", type=int, default=5, help="keep every N-th frame (default 5)")
    s.add_argument("--size", type=_size, default=None, help="resize to WIDTHxHEIGHT (default: keep)")

    s = _add(sub, "label", "label a video interactively, or derive labels from rep marks (--from-reps)",
             "  homegym label my_pushups.mp4 --exercise pushup          # opens a window\n"
             "  homegym label --from-reps ../shared/data/clips.csv --out labels/\n", cmd_label)
    s.add_argument("video", type=Path, nargs="?", help="the video to label interactively")
    s.add_argument("--exercise", help="exercise for the u/d keys (e.g. pushup -> pushup_up/pushup_down); "
                                      "without it the labels are seed-style up/down/neither")
    s.add_argument("--out", type=Path, help="labels file (interactive; default beside the video) or folder (--from-reps)")
    s.add_argument("--from-reps", type=Path, metavar="CLIPS.csv", help="a rep manifest in the format of ../shared/data/clips.csv")
    s.add_argument("--poses", type=Path, help="folder of pose traces to sharpen --from-reps (default: poses/ beside the manifest)")

    s = _add(sub, "train", "train the MobileNetV2 classifier and write model.keras plus an honest report",
             "  homegym train labels/ -o runs/seed --weights ../shared/data/weights/mobilenet_v2_1.0_no_top_imagenet.weights.h5\n"
             "  homegym train ../shared/data/clips.csv -o runs/real --no-augment --size 160\n"
             "  homegym train clips/ -o runs/tiny --weights none --alpha 0.35 --size 96 --epochs 2\n", cmd_train)
    s.add_argument("data", type=Path, nargs="+", help="folders of labels files or label-named image folders, labels files, or rep manifests (.csv)")
    s.add_argument("-o", "--out", type=Path, required=True, help="output folder for model.keras, report.json, curves.png, confusion.png")
    s.add_argument("--size", type=int, default=160, help="model input size in pixels (default 160)")
    s.add_argument("--alpha", type=float, default=1.0, help="MobileNetV2 width multiplier (default 1.0)")
    s.add_argument("--weights", default="imagenet", help="'imagenet' (Keras download, cached in ~/.keras/models), 'none', or a .weights.h5 file")
    s.add_argument("--epochs", type=int, default=10, help="epochs with the base frozen (default 10)")
    s.add_argument("--fine-tune-epochs", type=int, default=0, help="epochs with the top of the base unfrozen (default 0)")
    s.add_argument("--unfreeze", default="30", help="layers of the base to unfreeze for fine-tuning, or 'all' (default 30)")
    s.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate (default 1e-3)")
    s.add_argument("--fine-tune-lr", type=float, default=1e-5, help="learning rate when fine-tuning (default 1e-5)")
    s.add_argument("--batch", type=int, default=32, help="batch size (default 32)")
    s.add_argument("--dense", type=int, default=128, help="units of the Dense ReLU layer (default 128)")
    s.add_argument("--stride", type=int, default=2, help="use every N-th video frame (default 2)")
    s.add_argument("--augment", action=argparse.BooleanOptionalAction, default=True, help="augment training frames (default on)")
    s.add_argument("--seed", type=int, default=0, help="seed of the split, the shuffling and the weights (default 0)")
    s.add_argument("--test-fraction", type=float, default=0.2, help="held-out share of clips without a split column (default 0.2)")
    s.add_argument("--val-fraction", type=float, default=0.1, help="share of training groups for validation (default 0.1)")
    s.add_argument("--patience", type=int, default=4, help="early-stopping patience in epochs (default 4)")
    s.add_argument("--steps-per-epoch", type=int, default=None, help="cap the steps of an epoch (quick runs)")
    s.add_argument("--cache", type=Path, default=None, help="decoded-frame cache folder, or 'none' (default ~/.cache/homegym/frames)")
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    try:
        return args.func(args)
    except UserError as e:
        print(f"homegym {args.command}: error: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"homegym {args.command}: error: {e.strerror or e}: {e.filename or ''}".rstrip(": "), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"homegym {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
