"""The pose IRs' own contract: what ``convert`` writes into the detector's and the landmark model's
runtime info and the daemon's pose stage reads back with OpenVINO alone.

MediaPipe keeps the detector's anchors and its box decoding in its graph files, not in the
.tflite; they are copied here (from ``pose_detection_cpu.pbtxt``, MediaPipe 0.10.14) and travel
inside the IR, so the daemon never needs MediaPipe's graphs nor MediaPipe itself.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .errors import UserError
from .model_info import read_ir_file

RT = "homegym"
KINDS = ("pose_detector", "pose_landmarks")
INPUT_LAYOUT = "uint8 BGR NHWC, 1 x {s} x {s} x 3"  # the IR converts to RGB and scales itself
POSE_LANDMARKS = 33  # MediaPipe's BlazePose topology
LANDMARK_MODELS = ("lite", "full", "heavy")  # BlazePose's three landmark models: one detector serves them all
DETECTOR_FILE = "detector.xml"
EARLIER_FULL_FILE = "landmarks.xml"  # the full model's name in folders converted before there were three


def landmarks_file(model: str) -> str:
    """The IR's file name of one landmark model in a pose folder."""
    return f"landmarks_{model}.xml"


def tflite_name(model: str) -> str:
    """The .tflite MediaPipe names it (the wheel's and the npm package's own name)."""
    return f"pose_landmark_{model}.tflite"


@dataclass(frozen=True)
class Anchors:
    """MediaPipe's SsdAnchorsCalculatorOptions for the pose detector (2254 anchors at 224 x 224)."""

    input_size: int = 224
    num_layers: int = 5
    min_scale: float = 0.1484375
    max_scale: float = 0.75
    strides: tuple[int, ...] = (8, 16, 32, 32, 32)
    offset: float = 0.5
    fixed_size: bool = True


@dataclass(frozen=True)
class Decoding:
    """MediaPipe's TensorsToDetections and non-max-suppression options for the pose detector."""

    num_boxes: int = 2254
    num_coords: int = 12  # box (x, y, w, h) then 4 keypoints (x, y)
    num_keypoints: int = 4  # 0 hips' centre, 1 a point whose distance from it is the body's radius, 2 shoulders' centre, 3 head
    scale: float = 224.0
    score_clip: float = 100.0
    min_score: float = 0.5
    nms_iou: float = 0.3
    roi_scale: float = 1.25  # the crop around the person: the body's circle, grown by this


@dataclass(frozen=True)
class PoseModelInfo:
    kind: str  # pose_detector | pose_landmarks
    input_size: int
    version: str  # what it was converted from: MediaPipe's release and the .tflite's SHA-256
    licence: str
    anchors: Anchors = field(default_factory=Anchors)
    decoding: Decoding = field(default_factory=Decoding)

    def write(self, model) -> None:
        values = {"kind": self.kind, "input": INPUT_LAYOUT.format(s=self.input_size), "input_size": str(self.input_size),
                  "model_version": self.version, "licence": self.licence}
        if self.kind == "pose_detector":
            values["anchors"] = json.dumps(asdict(self.anchors), sort_keys=True)
            values["decoding"] = json.dumps(asdict(self.decoding), sort_keys=True)
        for k, v in values.items():
            model.set_rt_info(v, [RT, k])

    @classmethod
    def read(cls, model, where: str) -> PoseModelInfo:
        def get(key: str) -> str:
            try:
                return str(model.get_rt_info([RT, key]).astype(str))
            except RuntimeError:
                raise UserError(f"{where} is not a HomeGym pose IR: runtime info '{RT}/{key}' is missing "
                                "(convert MediaPipe's .tflite files with 'homegym convert')") from None

        kind = get("kind")
        if kind not in KINDS:
            raise UserError(f"{where}: a {kind} model, not a pose model")
        try:
            anchors, decoding = Anchors(), Decoding()
            if kind == "pose_detector":
                a = json.loads(get("anchors"))
                anchors = Anchors(**{**a, "strides": tuple(a["strides"])})
                decoding = Decoding(**json.loads(get("decoding")))
            return cls(kind, int(get("input_size")), get("model_version"), get("licence"), anchors, decoding)
        except (ValueError, TypeError, KeyError) as e:
            raise UserError(f"{where}: malformed pose runtime info: {e}") from None


def read_pose_ir(path: Path, kind: str):
    """One of the two pose IRs and its contract; one-line errors for a missing, corrupt or wrong file."""
    path = Path(path)
    if not path.exists() or not path.with_suffix(".bin").exists():
        raise UserError(f"pose model not found: {path} (and its .bin): convert MediaPipe's .tflite files with 'homegym convert'")
    model = read_ir_file(path, "pose model")
    info = PoseModelInfo.read(model, str(path))
    if info.kind != kind:
        raise UserError(f"{path} is a {info.kind} model where a {kind} model belongs")
    return model, info


NPM_PACKAGE = "@mediapipe/pose@0.5.1675469404"  # the registry package with all three landmark models


def how_to_convert(model: str, folder: Path) -> str:
    return (f"convert it: npm pack {NPM_PACKAGE} && homegym convert mediapipe-pose-0.5.1675469404.tgz "
            f"-o {folder} --pose-models {model} (docs/pose.md)")


def pose_paths(folder: Path, model: str) -> tuple[Path, Path]:
    """The detector's and one landmark model's IR in a pose folder; a one-line error that says how to convert a missing one."""
    if model not in LANDMARK_MODELS:
        raise UserError(f"pose.model: {model!r} is not one of {', '.join(LANDMARK_MODELS)}")
    folder = Path(folder)
    if not folder.is_dir():
        raise UserError(f"pose model not found: no folder {folder}: {how_to_convert(model, folder)}")
    landmarks = folder / landmarks_file(model)
    if model == "full" and not landmarks.exists() and (folder / EARLIER_FULL_FILE).exists():
        landmarks = folder / EARLIER_FULL_FILE
    if not landmarks.exists():
        raise UserError(f"pose.model {model}: no {landmarks.name} in {folder}: {how_to_convert(model, folder)}")
    return folder / DETECTOR_FILE, landmarks


def read_pose_pair(folder: Path, model: str):
    """Both IRs of a pose folder for ``model``, each with its contract; the landmark IR must be that model."""
    det_path, lm_path = pose_paths(folder, model)
    det = read_pose_ir(det_path, "pose_detector")
    lm = read_pose_ir(lm_path, "pose_landmarks")
    if tflite_name(model) not in lm[1].version:
        raise UserError(f"{lm_path} is not BlazePose's {model} landmark model ({lm[1].version.split(' sha256')[0]}): "
                        f"{how_to_convert(model, Path(folder))}")
    return det, lm
