"""MediaPipe's own Python solution over a video: the reference the pose stage is measured against.

Runs only in a separate venv that holds mediapipe (``scripts/pose_reference_venv.sh``): mediapipe
0.10.14 cannot share a venv with the train extra, and the daemon never imports it. The parity
check and the bench run it by path with that venv's Python; of homegym it takes only the
letterbox (``--letterbox``: the pose stage's own square canvas, NumPy and OpenCV only), found
through the checkout this file lies in. It writes the landmark layout ``homegym pose`` writes (docs/pose.md), so the two compare
frame by frame, and prints the frames per second of mediapipe's own processing (decoding excluded).

    python pose_reference.py VIDEO OUT.npz [--stride N] [--frames N] [--max-side PX] [--letterbox PX] [--model-complexity 0|1|2]

Model complexity 0 and 2 (lite, heavy) need ``pose_landmark_lite.tflite`` and ``pose_landmark_heavy.tflite`` in
mediapipe's ``modules/pose_landmark/``: mediapipe downloads them at run time, which cannot work offline, so
``scripts/pose_reference_venv.sh`` puts the npm package's files there.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("video")
    p.add_argument("out")
    p.add_argument("--stride", type=int, default=1, help="every N-th frame (default every one)")
    p.add_argument("--frames", type=int, default=0, help="only the video's first N frames (0: all)")
    p.add_argument("--max-side", type=int, default=0, help="scale frames down to this longest side first (0: as decoded)")
    p.add_argument("--letterbox", type=int, default=0, help="give MediaPipe the pose stage's square canvas of this side "
                   "(the same pixels the stage sees), landmarks mapped back to the frame (0: the frames as decoded)")
    p.add_argument("--model-complexity", type=int, choices=(0, 1, 2), default=1, help="0 lite, 1 full (default), 2 heavy")
    a = p.parse_args(argv)
    import mediapipe as mp

    letterbox = None
    if a.letterbox:
        sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
        from homegym.core.letterbox import Letterbox

        letterbox = Letterbox(a.letterbox)

    cap = cv2.VideoCapture(a.video)
    if not cap.isOpened():
        print(f"error: cannot open {a.video}", file=sys.stderr)
        return 1
    fps = cap.get(cv2.CAP_PROP_FPS) or 30.0
    frames: list[int] = []
    lms: list = []
    world: list = []
    found: list[bool] = []
    busy = 0.0
    w = h = 0
    with mp.solutions.pose.Pose(model_complexity=a.model_complexity, smooth_landmarks=True, enable_segmentation=False,
                                min_detection_confidence=0.5, min_tracking_confidence=0.5) as pose:
        i = 0
        while True:
            ok, frame = cap.read()
            if not ok or (a.frames and i >= a.frames):
                break
            if i % a.stride == 0:
                h, w = frame.shape[:2]
                if a.max_side and max(h, w) > a.max_side:
                    s = a.max_side / max(h, w)
                    frame = cv2.resize(frame, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA)
                if letterbox is not None:
                    frame = letterbox(frame)
                rgb = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
                t = time.perf_counter()
                r = pose.process(rgb)
                busy += time.perf_counter() - t
                frames.append(i)
                if r.pose_landmarks:
                    found_lm = np.array([(q.x, q.y, q.z, q.visibility) for q in r.pose_landmarks.landmark], np.float32)
                    if letterbox is not None:
                        found_lm[:, :2] = letterbox.to_frame(found_lm[:, :2])
                        found_lm[:, 2] *= letterbox.size / letterbox.box.w
                    lms.append(found_lm)
                    world.append([(q.x, q.y, q.z) for q in r.pose_world_landmarks.landmark])
                    found.append(True)
                else:
                    lms.append(np.full((33, 4), np.nan))
                    world.append(np.full((33, 3), np.nan))
                    found.append(False)
            i += 1
    n = len(frames)
    np.savez_compressed(a.out, frame=np.array(frames, np.int32), t=np.array(frames, np.float32) / fps,
                        landmarks=np.array(lms, np.float32).reshape(n, 33, 4), world=np.array(world, np.float32).reshape(n, 33, 3),
                        found=np.array(found, bool), presence=np.array(found, np.float32), fps=np.float32(fps),
                        width=np.int32(w), height=np.int32(h), source=np.str_(a.video),
                        model=np.str_(f"mediapipe {mp.__version__} solutions.pose model_complexity={a.model_complexity}"))
    print(f"frames {n} found {int(np.sum(found))} busy_s {busy:.3f} fps {n / busy if busy else 0:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
