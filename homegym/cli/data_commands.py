"""Commands that make training data: ``synth`` (rendered clips), ``extract`` (image folders), ``label``, and test
recordings: ``join`` (clips back to back)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from homegym.core.errors import UserError

from .parsing import add, size


def depth_deg(text: str) -> float:
    """--squat-depth: degrees of the thighs below level, between -60 (a quarter squat) and 30."""
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of degrees: {text!r}") from None
    if not -60.0 <= v <= 30.0:
        raise argparse.ArgumentTypeError(f"{v:g} is outside -60 to 30 degrees")
    return v


def synth(a: argparse.Namespace) -> int:
    from homegym.train.synth import render_clip
    from homegym.train.synth.manifest import write_manifest

    kinds = [k.strip() for k in a.kinds.split(",") if k.strip()]
    results = []
    for i in range(a.count):
        r = render_clip(a.out, kinds[i % len(kinds)], a.seed + i, a.duration, a.fps, a.size, squat_depth=a.squat_depth,
                        view=a.view)
        results.append(r)
        reps = f"{len(r.reps)} reps" + (f", {len(r.partial_reps)} partial" if r.partial_reps else "")
        print(f"{r.video}  {r.activity:8s} {reps}")
    write_manifest(a.out / "clips.csv", results)
    print(f"wrote {len(results)} clips and {a.out / 'clips.csv'}")
    return 0


def join(a: argparse.Namespace) -> int:
    """Clips back to back in one video: a long session, a circuit (the ffmpeg command in docs/model-card.md does the same)."""
    from homegym.core import manifest
    from homegym.core.video import join_videos, open_video

    paths = list(a.clips)
    if a.manifest:
        rows = manifest.read(a.manifest)
        paths += [r.path for r in rows if not a.split or r.split == a.split]
    if not paths:
        raise UserError("no clips to join: name them, or give --manifest")
    clips, seconds = [], 0.0
    for path in paths:
        cap, info = open_video(path)  # a missing or undecodable clip fails before anything is written
        cap.release()
        clips.append((path, info.fps))
        seconds += info.frames / info.fps
        if a.minutes and seconds >= a.minutes * 60:
            break
    if a.hold < 0:
        raise UserError(f"--hold: seconds, 0 or more, got {a.hold:g}")
    per_clip = join_videos(clips, a.out, a.size, a.fps, hold_s=a.hold)
    start = 0
    for (path, _), n in zip(clips, per_clip):
        print(f"{start / a.fps:8.1f} s  {path}")  # where each clip begins: a count per clip from count --json's t
        start += n
    print(f"{a.out}: {len(clips)} clips, {start} frames ({start / a.fps / 60:.1f} min at {a.fps:g} fps)")
    return 0


def extract(a: argparse.Namespace) -> int:
    from homegym.train.image.extract import extract as run

    counts = run(a.inputs, a.out, a.stride, a.size)
    for label, n in sorted(counts.items()):
        print(f"{label:16s} {n:6d}")
    print(f"wrote {sum(counts.values())} frames under {a.out}")
    return 0


def label(a: argparse.Namespace) -> int:
    if a.from_reps:
        from homegym.train.from_reps import write_all

        if a.out is None:
            raise UserError("--from-reps needs --out DIR for the labels files")
        written = write_all(a.from_reps, a.out, a.poses, a.tracks)
        print(f"wrote {len(written)} labels files to {a.out}")
        return 0
    if a.video is None:
        raise UserError("give a VIDEO to label, or --from-reps CLIPS.csv")
    from homegym.train.labeller import label_video

    path = label_video(a.video, a.out, a.exercise)
    print(f"labels in {path}")
    return 0


def register(sub: Any) -> None:
    s = add(sub, "join", "join clips into one video, each letterboxed and resampled (a long session, a circuit)",
            "  homegym join circuit.mp4 a.mp4 b.mp4 c.mp4\n"
            "  homegym join session.mp4 --manifest ../shared/data/clips.csv --minutes 30\n"
            "  homegym join rests.mp4 a.mp4 b.mp4 --hold 10        # a 10 s still hold between the sets\n", join)
    s.add_argument("out", type=Path, help="the .mp4 to write")
    s.add_argument("clips", type=Path, nargs="*", help="video files, in order")
    s.add_argument("--manifest", type=Path, help="also every clip of this manifest, in its order")
    s.add_argument("--split", help="only the manifest's clips of this split")
    s.add_argument("--minutes", type=float, help="stop adding clips once the video is this long")
    s.add_argument("--size", type=size, default=(640, 480), help="WIDTHxHEIGHT (default 640x480)")
    s.add_argument("--fps", type=float, default=30.0, help="frames per second (default 30)")
    s.add_argument("--hold", type=float, default=0.0, metavar="SECONDS", help="hold each clip's last frame this long, with a "
                   "camera's noise, before the next: a still rest between sets (default 0)")
    s = add(sub, "synth", "render workout clips of a 3D figure with exact labels and rep times",
            "  homegym synth clips/ --count 12 --seed 1\n"
            "  homegym synth clips/ --kinds squat --duration 20 --size 320x240\n"
            "  homegym synth shallow/ --kinds squat --squat-depth -15 --view side  # squats 15 degrees above parallel\n", synth)
    s.add_argument("out", type=Path, help="output folder (NAME.mp4, NAME.labels.csv, NAME.reps.json, clips.csv)")
    s.add_argument("--count", type=int, default=6, help="number of clips (default 6)")
    s.add_argument("--seed", type=int, default=0, help="seed of the first clip; clip i uses seed+i (default 0)")
    s.add_argument("--kinds", default="pushup,squat,neither",
                   help="comma list cycled over the clips: pushup, squat, neither (a random one of walk, stretch, "
                        "kneel, lie, empty), or one of those, or stand (default pushup,squat,neither)")
    s.add_argument("--duration", type=float, default=10.0, help="seconds per clip (default 10)")
    s.add_argument("--fps", type=float, default=30.0, help="frames per second (default 30)")
    s.add_argument("--size", type=size, default=(640, 480), help="WIDTHxHEIGHT (default 640x480)")
    s.add_argument("--squat-depth", type=depth_deg, metavar="DEG",
                   help="every full squat ends with the thighs DEG degrees below level (-15: 15 above parallel; "
                        "default: each rep between level and 8 below)")
    s.add_argument("--view", choices=("any", "side"), default="any",
                   help="the camera: any (mostly side and oblique, sometimes front or back; default) or side (square to "
                        "the side at about hip height: where a squat's depth shows as it is)")

    s = add(sub, "extract", "sample frames from videos into one folder per label (the image classifier's image-folder format)",
            "  homegym extract clips/ --out frames/ --stride 5\n"
            "  homegym extract labels/ --out frames/ --size 224x224\n", extract)
    s.add_argument("inputs", type=Path, nargs="+", help="videos, labels files, or folders of them")
    s.add_argument("--out", type=Path, required=True, help="output folder")
    s.add_argument("--stride", type=int, default=5, help="keep every N-th frame (default 5)")
    s.add_argument("--size", type=size, default=None, help="resize to WIDTHxHEIGHT (default: keep)")

    s = add(sub, "label", "label a video interactively, or derive labels from rep marks (--from-reps)",
            "  homegym label my_pushups.mp4 --exercise pushup          # opens a window\n"
            "  homegym label --from-reps ../shared/data/clips.csv --out labels/\n", label)
    s.add_argument("video", type=Path, nargs="?", help="the video to label interactively")
    s.add_argument("--exercise", help="exercise for the u/d keys (e.g. pushup -> pushup_up/pushup_down); "
                                      "without it the labels are a three-class up/down/neither")
    s.add_argument("--out", type=Path, help="labels file (interactive; default beside the video) or folder (--from-reps)")
    s.add_argument("--from-reps", type=Path, metavar="CLIPS.csv", help="a rep manifest in the format of ../shared/data/clips.csv")
    s.add_argument("--poses", type=Path, help="folder of pose traces to sharpen --from-reps (default: poses/ beside the manifest)")
    s.add_argument("--tracks", type=Path, help="the clips' keypoints (homegym poses MANIFEST -o DIR) to sharpen --from-reps "
                                               "instead of traces: what the keypoint classifier sees")
