"""The ``homegym`` command. Subcommands import their module only when run, so ``homegym run``
never loads TensorFlow and ``homegym --help`` is instant."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable
from pathlib import Path

from homegym import __version__
from homegym.core import logsetup
from homegym.core.errors import UserError
from homegym.core.runtime import DEFAULT_CACHE

log = logging.getLogger("homegym")
LOG_LEVELS = ["DEBUG", "INFO", "WARNING", "ERROR"]


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
    p.add_argument("--log-level", dest="sub_log_level", choices=LOG_LEVELS, help="default INFO (run: logging.level of the config)")
    return p


# --- subcommands -------------------------------------------------------------------------------


def cmd_synth(a: argparse.Namespace) -> int:
    from homegym.train.synth import render_clip
    from homegym.train.synth.manifest import write_manifest

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
    from homegym.train.extract import extract

    counts = extract(a.inputs, a.out, a.stride, a.size)
    for label, n in sorted(counts.items()):
        print(f"{label:16s} {n:6d}")
    print(f"wrote {sum(counts.values())} frames under {a.out}")
    return 0


def cmd_label(a: argparse.Namespace) -> int:
    if a.from_reps:
        from homegym.train.from_reps import write_all

        if a.out is None:
            raise UserError("--from-reps needs --out DIR for the labels files")
        written = write_all(a.from_reps, a.out, a.poses)
        print(f"wrote {len(written)} labels files to {a.out}")
        return 0
    if a.video is None:
        raise UserError("give a VIDEO to label, or --from-reps CLIPS.csv")
    from homegym.train.labeller import label_video

    path = label_video(a.video, a.out, a.exercise)
    print(f"labels in {path}")
    return 0


def cmd_train(a: argparse.Namespace) -> int:
    from homegym.train.fit import TrainSettings, run
    from homegym.train.report import table

    s = TrainSettings(
        data=a.data, out=a.out, size=a.size, alpha=a.alpha, weights=a.weights, epochs=a.epochs, batch=a.batch, lr=a.lr,
        dense=a.dense, stride=a.stride, framing=a.framing, augment=a.augment, fine_tune_epochs=a.fine_tune_epochs, fine_tune_lr=a.fine_tune_lr,
        pose_aux=a.pose_aux, masks=a.masks, background_swap=a.background_swap,
        unfreeze=None if a.unfreeze == "all" else int(a.unfreeze), seed=a.seed, test_fraction=a.test_fraction,
        val_fraction=a.val_fraction, patience=a.patience, steps_per_epoch=a.steps_per_epoch,
        **({"cache": None if str(a.cache) == "none" else a.cache} if a.cache is not None else {}),
    )
    rep = run(s)
    print(table(rep))
    print(f"model: {a.out / 'model.keras'}  report: {a.out / 'report.json'}")
    return 0


def cmd_convert(a: argparse.Namespace) -> int:
    from homegym.convert.run import ConvertSettings, run, summary

    s = ConvertSettings(model=a.model, out=a.out, precision=a.precision, batch=a.batch, working_size=a.working_size,
                        device=a.device, cache_dir=None if str(a.cache_dir) == "none" else a.cache_dir, report=a.report,
                        data=a.data, stride=a.stride, calibration_frames=a.calibration_frames)
    print(summary(run(s)))
    return 0


def _load_config(path: Path | None):
    from homegym.daemon.config import load

    return load(path)


def cmd_check_config(a: argparse.Namespace) -> int:
    _load_config(a.file)
    print(f"{a.file}: ok")
    return 0


def cmd_config_reference(a: argparse.Namespace) -> int:
    from homegym.daemon import config_reference

    print(config_reference.render_yaml() if a.format == "yaml" else config_reference.render_markdown(), end="")
    return 0


def cmd_count(a: argparse.Namespace) -> int:
    import json

    from homegym.daemon.config import for_file
    from homegym.daemon.events import RepEvent
    from homegym.daemon.pipeline import Pipeline

    cfg = for_file(_load_config(a.config), a.video)

    def sink(e) -> None:
        if a.json:
            if isinstance(e, RepEvent):
                print(e.to_json(), flush=True)
        elif isinstance(e, RepEvent):
            print(f"{e.t:8.2f}s  {e.exercise:8s} rep {e.rep:3d}  set {e.set:2d}  total {e.total:3d}  confidence {e.confidence:.2f}", flush=True)

    pipe = Pipeline(cfg, a.model, sink)
    annot = None
    if a.annotate:
        from homegym.core.video import open_video
        from homegym.daemon.annotate import Annotator
        from homegym.daemon.capture import stride_for

        cap, info = open_video(a.video)
        cap.release()
        annot = Annotator(a.annotate, pipe.inference.labels, info.fps / stride_for(info.fps, cfg.pipeline.infer_fps),
                          pipe.inference.working_size)
        pipe.frame_hook = annot
    try:
        s = pipe.run(offline=True)
    finally:
        if annot:
            annot.close()
    if a.json:
        print(json.dumps({"type": "summary", "total": s.total, "by_exercise": s.by_exercise, "partial": s.partial,
                          "frames": s.frames, "frames_read": s.frames_read, "fps": round(s.fps, 1)}))
    else:
        per = ", ".join(f"{ex} {n}" for ex, n in s.by_exercise.items())
        print(f"total {s.total} ({per}); {s.partial} partial; {s.frames} frames inferred at {s.fps:.0f} fps "
              f"(of {s.frames_read} read)")
    return 0


def cmd_run(a: argparse.Namespace) -> int:
    from homegym.daemon.service import run

    cfg = _load_config(a.config)
    fixed = _log_level(a) is not None
    if not fixed:
        logging.getLogger().setLevel(cfg.logging.level.upper())
    s = run(cfg, a.config, a.model, log_level_fixed=fixed)
    log.info("stopped: %d reps (%s), %d frames, %d dropped, %d reconnects", s.total,
             ", ".join(f"{k} {v}" for k, v in s.by_exercise.items()), s.frames, s.dropped, s.reconnects)
    return 0


def cmd_eval(a: argparse.Namespace) -> int:
    from homegym.measure import evaluate

    report = evaluate.run(a.manifest, _load_config(a.config), a.model, a.split, a.poses)
    if a.json:
        print(report.to_json())
    else:
        print(evaluate.markdown(report))
    if a.out:
        a.out.mkdir(parents=True, exist_ok=True)
        (a.out / "eval.md").write_text(evaluate.markdown(report) + "\n")
        (a.out / "eval.json").write_text(report.to_json() + "\n")
        if evaluate.chart(report, a.out / "eval.png"):
            log.info("wrote %s", a.out / "eval.png")
    return 0


def _manifest_args(s: argparse.ArgumentParser, split_help: str, config_help: str) -> None:
    """What eval and tune take alike: the clips, which of them, the model and the config."""
    s.add_argument("manifest", type=Path, help="a clip manifest in the format of ../shared/data/clips.csv")
    s.add_argument("--split", help=split_help)
    s.add_argument("--model", type=Path, help="overrides model.path (default: the shipped model)")
    s.add_argument("--config", type=Path, help=f"{config_help} (default: built-in defaults)")


def cmd_tune(a: argparse.Namespace) -> int:
    from homegym.measure import tune

    if a.top < 1:
        raise UserError(f"--top must be 1 or more, got {a.top}")
    current, ranked = tune.run(a.manifest, _load_config(a.config), a.model, a.split, a.held_back, a.grid)
    print(tune.to_json(current, ranked, a.grid) if a.json else tune.markdown(current, ranked, a.top, a.grid))
    return 0


def cmd_bench(a: argparse.Namespace) -> int:
    from homegym.measure import bench

    report = bench.run(a.model, a.models or [], _load_config(a.config), a.clip, a.keras, a.short, a.device)
    print(report.markdown())
    if a.json:
        a.json.write_text(report.to_json() + "\n")
        log.info("wrote %s", a.json)
    return 0


def cmd_install_service(a: argparse.Namespace) -> int:
    from homegym.daemon.install import Layout, install

    for line in install(Layout(a.root, a.prefix), a.source, a.model, start=not a.no_start):
        print(line)
    return 0


def cmd_uninstall_service(a: argparse.Namespace) -> int:
    from homegym.daemon.install import Layout, uninstall

    for line in uninstall(Layout(a.root, a.prefix), a.purge):
        print(line)
    return 0


# --- parser ------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="homegym",
        description="HomeGym Spotter: count push-ups and squats from a camera; train, convert and run the model.",
        epilog="Run 'homegym COMMAND --help' for a command's options and examples.",
    )
    p.add_argument("--version", action="version", version=f"homegym {__version__}")
    p.add_argument("--log-level", default=None, choices=LOG_LEVELS, help="default INFO (run: logging.level of the config)")
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
    s = _add(sub, "convert", "compile a trained Keras model to an OpenVINO IR for the NPU or the CPU, checked on real frames",
             "  homegym convert runs/first/model.keras -o models/first\n"
             "  homegym convert runs/first/model.keras -o models/int8 --precision int8 --device AUTO:NPU,CPU\n"
             "  homegym convert model.keras -o models/npu --device NPU --batch 1 --working-size 320x240\n"
             "  homegym convert models/first -o models/first_int8 --precision int8      # from an IR: no TensorFlow needed\n", cmd_convert)
    s.add_argument("model", type=Path, help="the model.keras written by 'homegym train' (its report.json beside it), or an IR "
                   "written by convert (model.xml or its folder, train_report.json beside it) to re-convert, e.g. to int8")
    s.add_argument("-o", "--out", type=Path, required=True, help="output folder: model.xml, model.bin, convert_report.json, train_report.json")
    s.add_argument("--precision", default="fp32", choices=["fp32", "fp16", "int8"], help="default fp32; int8 is NNCF post-training quantization")
    s.add_argument("--batch", type=int, default=4, help="static batch size (the NPU compiles only static shapes; default 4, the daemon's)")
    s.add_argument("--working-size", type=_size, default=None, help="WIDTHxHEIGHT of the frames the IR takes (default: the model's size)")
    s.add_argument("--device", default="CPU", help="CPU, NPU, GPU, AUTO or AUTO:NPU,CPU (compiled here as a check; default CPU)")
    s.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE, help=f"OpenVINO model cache, or 'none' (default {DEFAULT_CACHE})")
    s.add_argument("--report", type=Path, help="the training report (default: report.json beside the model, train_report.json beside an IR)")
    s.add_argument("--data", type=Path, nargs="+", help="the training data, if it moved since training (for calibration and the checks)")
    s.add_argument("--stride", type=int, default=3, help="sample every N-th video frame for the checks (default 3)")
    s.add_argument("--calibration-frames", type=int, default=300, help="training frames for INT8 calibration (default 300)")
    s = _add(sub, "count", "count the reps in a video file with the daemon's pipeline, as fast as the machine allows",
             "  homegym count workout.mp4\n"
             "  homegym count workout.mp4 --json > reps.jsonl\n"
             "  homegym count workout.mp4 --annotate why.mp4 --model models/first --config config.yaml\n", cmd_count)
    s.add_argument("video", type=Path, help="a video file")
    s.add_argument("--model", type=Path, help="an IR (model.xml or its folder); default: model.path of the config, else the shipped model")
    s.add_argument("--config", type=Path, help="config.yaml (default: the built-in defaults, as documented in config.yaml)")
    s.add_argument("--json", action="store_true", help="one JSON object per rep, then a summary line")
    s.add_argument("--annotate", type=Path, metavar="OUT.mp4", help="write the video with the count, phase and probabilities drawn on it")

    s = _add(sub, "run", "run the daemon on the configured live source (camera, stream or file)",
             "  homegym run --config /etc/homegym/config.yaml\n"
             "  homegym run --config config.yaml --model models/first --log-level DEBUG\n", cmd_run)
    s.add_argument("--config", type=Path, help="config.yaml (default: built-in defaults)")
    s.add_argument("--model", type=Path, help="overrides model.path")

    s = _add(sub, "eval", "count every clip of a manifest with the full pipeline and score it against the truth",
             "  homegym eval ../shared/data/clips.csv --split eval --out runs/eval\n"
             "  homegym eval my_clips.csv --model models/mine --config config.yaml --json\n", cmd_eval)
    _manifest_args(s, "only the clips of this split (train or eval)", "config.yaml for voting and counting")
    s.add_argument("--poses", type=Path, help="pose traces for the per-frame labels (default: poses/ beside the manifest)")
    s.add_argument("--json", action="store_true", help="print the report as JSON instead of markdown")
    s.add_argument("--out", type=Path, help="also write eval.md, eval.json and eval.png (the chart) here")

    s = _add(sub, "tune", "choose the voting or periodicity settings on annotated clips: the model runs once per clip, every candidate is replayed",
             "  homegym tune ../shared/data/clips.csv --split train --config config.yaml\n"
             "  homegym tune ../shared/data/clips.csv --split train --config config.yaml --grid periodicity\n"
             "  homegym tune my_clips.csv --model models/mine --json\n", cmd_tune)
    _manifest_args(s, "only the clips of this split (tune on train; judge on eval with homegym eval)",
                   "config.yaml: everything but the tuned keys")
    s.add_argument("--grid", choices=("voting", "periodicity"), default="voting",
                   help="the config section whose keys are tried (default voting)")
    s.add_argument("--held-back", action="store_true",
                   help="only the clips the model's training held back from fitting (its validation clips)")
    s.add_argument("--top", type=int, default=10, help="candidates shown (default 10)")
    s.add_argument("--json", action="store_true", help="every candidate's figures as JSON instead of markdown")

    s = _add(sub, "bench", "measure the model, the pipeline, the seed's Keras loop, live CPU and rep latency in one run",
             "  homegym bench --short                                   # a few seconds per figure (CI)\n"
             "  homegym bench --models runs/ir/fp32 runs/ir/int8 --keras runs/train/model.keras --json bench.json\n",
             cmd_bench)
    s.add_argument("--model", type=Path, help="the IR the pipeline figures use (default: model.path, else the shipped model)")
    s.add_argument("--models", type=Path, nargs="+", help="more IRs for the model figures (other precisions)")
    s.add_argument("--config", type=Path, help="config.yaml (voting, counting, infer requests; default: built-in defaults)")
    s.add_argument("--clip", type=Path, help="the clip (default: a rendered 30 fps 640x480 push-up clip)")
    s.add_argument("--keras", type=Path, help="the Keras model for the seed's figures (default: the same architecture, untrained)")
    s.add_argument("--device", nargs="+", help="devices for the model figures (default: every one present)")
    s.add_argument("--short", action="store_true", help="a few seconds per figure instead of the full run")
    s.add_argument("--json", type=Path, help="also write the figures as JSON here")

    s = _add(sub, "install-service", "install the daemon as a systemd service (venv in /opt, config in /etc/homegym)",
             "  sudo .venv/bin/homegym install-service\n"
             "  sudo .venv/bin/homegym install-service --model models/mine --no-start\n"
             "  homegym install-service --root /tmp/stage     # stage the files, no systemctl\n", cmd_install_service)
    s.add_argument("--source", type=Path, help="the project folder to install from (default: the one this command runs from)")
    s.add_argument("--model", type=Path, help="a converted model folder to install and configure (default: the shipped model)")
    s.add_argument("--prefix", default="/opt/homegym", help="where the virtual environment goes (default /opt/homegym)")
    s.add_argument("--root", type=Path, default=Path("/"), help="stage under this folder instead of the system (no systemctl)")
    s.add_argument("--no-start", action="store_true", help="enable the unit but do not start it now")

    s = _add(sub, "uninstall-service", "stop, disable and remove the systemd service and its /opt folder",
             "  sudo /opt/homegym/venv/bin/homegym uninstall-service\n"
             "  sudo /opt/homegym/venv/bin/homegym uninstall-service --purge   # config, state and cache too\n",
             cmd_uninstall_service)
    s.add_argument("--purge", action="store_true", help="also remove /etc/homegym, the state (outbox, totals) and the cache")
    s.add_argument("--prefix", default="/opt/homegym", help="where it was installed (default /opt/homegym)")
    s.add_argument("--root", type=Path, default=Path("/"), help="the staging folder it was installed under")

    s = _add(sub, "check-config", "validate a config file without running anything",
             "  homegym check-config /etc/homegym/config.yaml\n", cmd_check_config)
    s.add_argument("file", type=Path)

    s = _add(sub, "config-reference", "print every config key with its default, range and meaning",
             "  homegym config-reference > config.yaml                    # the documented reference\n"
             "  homegym config-reference --format markdown                # docs/configuration.md\n", cmd_config_reference)
    s.add_argument("--format", choices=("yaml", "markdown"), default="yaml", help="default yaml")
    return p


def _log_level(args: argparse.Namespace) -> str | None:
    """--log-level, before or after the subcommand; None when not given (the config decides for run)."""
    return getattr(args, "sub_log_level", None) or args.log_level


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logsetup.setup(_log_level(args) or "INFO", timestamps=args.command == "run")
    try:
        return args.func(args)
    except UserError as e:
        for line in str(e).splitlines():  # a config with three problems: three lines, each complete
            print(f"homegym {args.command}: error: {line}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"homegym {args.command}: error: {e.strerror or e}: {e.filename or ''}".rstrip(": "), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"homegym {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
