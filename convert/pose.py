"""MediaPipe's BlazePose .tflite files to the two OpenVINO IRs of the daemon's pose stage.

The source is what the ``mediapipe`` wheel ships (0.10.14: ``pose_detection.tflite`` and
``pose_landmark_full.tflite``): the wheel file itself, an installed mediapipe's folder, or a
folder holding the two files. OpenVINO reads .tflite directly, so neither TensorFlow nor
mediapipe is needed. Each IR takes uint8 BGR frames at its own size and does the rest itself
(OpenVINO's PrePostProcessor: to f32, to RGB, MediaPipe's scaling); the landmark IR drops the
segmentation mask the daemon never reads. The anchors, decoding options, version and licence
go into the IRs' runtime info (core/pose_info.py), and the licence text and an attribution
beside them.
"""

from __future__ import annotations

import hashlib
import json
import logging
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from homegym.core.errors import UserError
from homegym.core.pose_info import FILES, PoseModelInfo, read_pose_ir
from homegym.core.runtime import compile_model, make_core

log = logging.getLogger(__name__)

TFLITE = {"pose_detector": "pose_detection.tflite", "pose_landmarks": "pose_landmark_full.tflite"}
IN_WHEEL = {"pose_detector": "mediapipe/modules/pose_detection/pose_detection.tflite",
            "pose_landmarks": "mediapipe/modules/pose_landmark/pose_landmark_full.tflite"}
SIZES = {"pose_detector": 224, "pose_landmarks": 256}
# MediaPipe's input scaling: the detector takes [-1, 1], the landmark model [0, 1].
SCALING = {"pose_detector": (127.5, 127.5), "pose_landmarks": (0.0, 255.0)}  # (mean, scale)
KEEP_OUTPUTS = {"pose_detector": (0, 1), "pose_landmarks": (0, 1, 3, 4)}  # landmarks, presence, heatmap, world
LICENCE = "Apache-2.0 (MediaPipe, Copyright The MediaPipe Authors); converted to OpenVINO IR by HomeGym Spotter"
# The IR against the .tflite it came from, on the same frames (FP16 weights, f32 arithmetic).
MAX_LANDMARK_DIFF_PX = 1.0  # in the 256-pixel crop
MAX_SCORE_DIFF = 0.02  # detector scores and landmark presence, after the sigmoid
CHECK_FRAMES = 8


@dataclass(frozen=True)
class PoseSource:
    files: dict[str, bytes]  # kind -> .tflite content
    licence: str  # the licence text found beside them ('' when none was)
    release: str  # e.g. "mediapipe 0.10.14", or "unknown release"


def is_pose_source(path: Path) -> bool:
    """A mediapipe wheel, one of its .tflite files, or a folder holding them."""
    path = Path(path)
    return path.suffix in (".whl", ".tflite") or (path.is_dir() and any(path.rglob(TFLITE["pose_detector"])))


def read_source(path: Path) -> PoseSource:
    path = Path(path)
    if not path.exists():
        raise UserError(f"not found: {path}")
    if path.suffix == ".whl":
        try:
            with zipfile.ZipFile(path) as z:
                names = z.namelist()
                missing = [IN_WHEEL[k] for k in IN_WHEEL if IN_WHEEL[k] not in names]
                if missing:
                    raise UserError(f"{path.name} holds no {missing[0]}: use the mediapipe 0.10.14 wheel "
                                    "(pip download mediapipe==0.10.14 --no-deps)")
                files = {k: z.read(IN_WHEEL[k]) for k in IN_WHEEL}
                lic = [n for n in names if n.endswith(".dist-info/LICENSE")]
                licence = z.read(lic[0]).decode() if lic else ""
        except zipfile.BadZipFile:
            raise UserError(f"{path} is not a wheel (not a zip file)") from None
        parts = path.name.split("-")
        return PoseSource(files, licence, f"{parts[0]} {parts[1]}" if len(parts) > 1 else "unknown release")
    folder = path.parent if path.is_file() else path
    files = {}
    for kind, name in TFLITE.items():
        found = sorted(folder.rglob(name))
        if not found:
            raise UserError(f"no {name} in {folder}: give the mediapipe wheel, or a folder with {' and '.join(TFLITE.values())}")
        files[kind] = found[0].read_bytes()
    lic_files = [p for p in (folder / "LICENSE", *folder.parent.glob("mediapipe-*.dist-info/LICENSE")) if p.exists()]
    release = "unknown release"
    for d in folder.parents:
        meta = list(d.glob("mediapipe-*.dist-info"))
        if meta:
            release = "mediapipe " + meta[0].name.split("-")[1].removesuffix(".dist")
            lic_files = lic_files or [meta[0] / "LICENSE"]
            break
    return PoseSource(files, lic_files[0].read_text() if lic_files else "", release)


def build(tflite: Path, kind: str, info: PoseModelInfo):
    """The .tflite as an OpenVINO model taking uint8 BGR at its size, with its contract written in."""
    import openvino as ov
    from openvino.preprocess import ColorFormat, PrePostProcessor

    src = ov.Core().read_model(str(tflite))
    outs = [src.output(i) for i in KEEP_OUTPUTS[kind]]
    model = ov.Model(outs, src.get_parameters(), kind)  # unused outputs (the segmentation mask) are pruned
    s = SIZES[kind]
    mean, scale = SCALING[kind]
    ppp = PrePostProcessor(model)
    ppp.input().tensor().set_element_type(ov.Type.u8).set_layout(ov.Layout("NHWC")).set_shape([1, s, s, 3]).set_color_format(
        ColorFormat.BGR)
    ppp.input().model().set_layout(ov.Layout("NHWC"))
    steps = ppp.input().preprocess().convert_element_type(ov.Type.f32).convert_color(ColorFormat.RGB)
    if mean:
        steps.mean(mean)
    steps.scale(scale)
    model = ppp.build()
    model.input(0).get_tensor().set_names({"frame"})
    info.write(model)
    return model


def _check_images(n: int, size: int) -> np.ndarray:
    """Smooth random pictures: deterministic, no data needed, and every output in use."""
    rng = np.random.default_rng(0)
    import cv2

    small = rng.integers(0, 256, (n, 12, 12, 3), np.uint8)
    return np.stack([cv2.resize(f, (size, size), interpolation=cv2.INTER_CUBIC) for f in small])


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -80, 80)))


def check(kind: str, tflite: Path, xml: Path) -> dict:
    """The IR as written against the .tflite, on the same pictures; the figures and whether they pass."""
    core = make_core(None)
    ir = compile_model(core, read_pose_ir(xml, kind)[0], "CPU")
    src = compile_model(core, core.read_model(str(tflite)), "CPU")
    s = SIZES[kind]
    mean, scale = SCALING[kind]
    coords, scores = 0.0, 0.0
    for img in _check_images(CHECK_FRAMES, s):
        a = ir.create_infer_request().infer({0: img[None]})
        b = src.create_infer_request().infer({0: ((img[None, ..., ::-1].astype(np.float32) - mean) / scale)})
        a_out, b_out = list(a.values()), [b[src.output(i)] for i in KEEP_OUTPUTS[kind]]
        if kind == "pose_detector":
            coords = max(coords, float(np.abs(a_out[0] - b_out[0]).max()) * s / 224)
            scores = max(scores, float(np.abs(_sigmoid(a_out[1]) - _sigmoid(b_out[1])).max()))
        else:
            lm_a, lm_b = a_out[0].reshape(-1, 5), b_out[0].reshape(-1, 5)
            coords = max(coords, float(np.abs(lm_a[:, :2] - lm_b[:, :2]).max()))
            scores = max(scores, float(np.abs(_sigmoid(a_out[1]) - _sigmoid(b_out[1])).max()))
    passed = coords <= MAX_LANDMARK_DIFF_PX and scores <= MAX_SCORE_DIFF
    return {"frames": CHECK_FRAMES, "max_coord_diff_px": round(coords, 4), "max_score_diff": round(scores, 5), "passed": passed}


def run(source: Path, out: Path, precision: str = "fp16") -> dict:
    """Convert both models into ``out`` (detector.xml, landmarks.xml, LICENSE, NOTICE, convert_report.json)."""
    import openvino as ov

    if precision not in ("fp16", "fp32"):
        raise UserError(f"the pose models convert to fp16 or fp32 weights, not {precision}")
    fp16 = precision == "fp16"
    src = read_source(source)
    out.mkdir(parents=True, exist_ok=True)
    report: dict = {"source": str(source), "release": src.release, "weights": "fp16" if fp16 else "fp32", "models": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for kind, content in src.files.items():
            tfl = Path(tmp) / TFLITE[kind]
            tfl.write_bytes(content)
            digest = hashlib.sha256(content).hexdigest()
            info = PoseModelInfo(kind, SIZES[kind], f"{src.release} {TFLITE[kind]} sha256:{digest}", LICENCE)
            try:
                model = build(tfl, kind, info)
            except RuntimeError as e:
                raise UserError(f"cannot read {TFLITE[kind]} from {source}: {str(e).splitlines()[-1]}") from None
            xml = out / FILES[kind]
            ov.save_model(model, str(xml), compress_to_fp16=fp16)
            figures = check(kind, tfl, xml)
            report["models"][kind] = {"ir": xml.name, "tflite": TFLITE[kind], "sha256": digest, "check": figures}
            log.info("%s: %s", xml, figures)
    if src.licence:
        (out / "LICENSE").write_text(src.licence)
    (out / "NOTICE").write_text(
        "The pose models in this folder (detector.xml/.bin, landmarks.xml/.bin) are MediaPipe's BlazePose\n"
        f"person detector and full landmark model ({src.release}: {TFLITE['pose_detector']}, {TFLITE['pose_landmarks']}),\n"
        "Copyright The MediaPipe Authors, licensed under the Apache License 2.0 (LICENSE).\n"
        "Modified: converted from TensorFlow Lite to OpenVINO IR by 'homegym convert' (HomeGym Spotter), with\n"
        "the input's colour conversion and scaling added, the segmentation output removed and the weights\n"
        f"stored as {'FP16' if fp16 else 'FP32'}. The detector's anchor and decoding options, from MediaPipe's graph files,\n"
        "are written into the IR's runtime info.\n")
    report["passed"] = all(m["check"]["passed"] for m in report["models"].values())
    (out / "convert_report.json").write_text(json.dumps(report, indent=1) + "\n")
    if not report["passed"]:
        raise UserError(f"the pose IRs in {out} differ from the .tflite beyond the bounds "
                        f"({MAX_LANDMARK_DIFF_PX} px, {MAX_SCORE_DIFF} in score): see convert_report.json")
    return report


def summary(r: dict) -> str:
    lines = [f"pose models from {r['release']} ({r['weights'].upper()} weights):"]
    for kind, m in r["models"].items():
        c = m["check"]
        lines.append(f"  {kind}: {m['ir']}  against the .tflite on {c['frames']} pictures: max coordinate diff "
                     f"{c['max_coord_diff_px']:.3f} px, max score diff {c['max_score_diff']:.4f}")
    return "\n".join(lines)
