"""MediaPipe's BlazePose .tflite files to the OpenVINO IRs of the daemon's pose stage.

The sources: the ``mediapipe`` 0.10.14 wheel (``pose_detection.tflite``, the detector, and
``pose_landmark_full.tflite``), the npm package ``@mediapipe/pose`` 0.5.1675469404 as ``npm pack``
writes it (the lite, full and heavy landmark models, no detector), an installed mediapipe's folder,
or a folder of those files; several at once, so the detector comes from the wheel and lite from npm.
OpenVINO reads .tflite directly, so neither TensorFlow nor mediapipe is needed.
Each IR takes uint8 BGR frames at its own size and does the rest itself
(OpenVINO's PrePostProcessor: to f32, to RGB, MediaPipe's scaling); the landmark IR drops the
segmentation mask the daemon never reads. The anchors, decoding options, version and licence
go into the IRs' runtime info (core/pose_info.py), and the licence text and an attribution
beside them.
"""

from __future__ import annotations

import hashlib
import json
import logging
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from homegym.core.errors import UserError
from homegym.core.pose_info import DETECTOR_FILE, LANDMARK_MODELS, NPM_PACKAGE, PoseModelInfo, landmarks_file, read_pose_ir, tflite_name
from homegym.core.runtime import compile_model, make_core

log = logging.getLogger(__name__)

DETECTOR_TFLITE = "pose_detection.tflite"
IN_WHEEL = "mediapipe/modules/"  # pose_detection/pose_detection.tflite, pose_landmark/pose_landmark_full.tflite
IN_NPM = "package/"  # @mediapipe/pose: pose_landmark_{lite,full,heavy}.tflite, no detector
SHIPPED = ("lite", "full")  # converted when no --pose-models is given; heavy is converted on demand
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
    """What one or more sources hold: each .tflite with the release it came from, and the licence found."""

    files: dict[str, tuple[bytes, str]]  # .tflite name -> (content, release such as "mediapipe 0.10.14")
    licence: str  # the licence text found beside them ('' when none was)
    licence_id: str = ""  # the SPDX id a package.json names ('' when none did)


def is_pose_source(path: Path) -> bool:
    """A mediapipe wheel, the @mediapipe/pose npm tarball, a pose .tflite, or a folder holding them."""
    path = Path(path)
    return (path.suffix in (".whl", ".tflite", ".tgz") or path.name.endswith(".tar.gz")
            or (path.is_dir() and any(path.rglob("pose_*.tflite"))))


def _read_wheel(path: Path) -> PoseSource:
    try:
        with zipfile.ZipFile(path) as z:
            names = z.namelist()
            need = [IN_WHEEL + "pose_detection/" + DETECTOR_TFLITE, IN_WHEEL + "pose_landmark/" + tflite_name("full")]
            missing = [n for n in need if n not in names]
            if missing:
                raise UserError(f"{path.name} holds no {missing[0]}: use the mediapipe 0.10.14 wheel "
                                "(pip download mediapipe==0.10.14 --no-deps)")
            lic = [n for n in names if n.endswith(".dist-info/LICENSE")]
            licence = z.read(lic[0]).decode() if lic else ""
            parts = path.name.split("-")
            release = f"{parts[0]} {parts[1]}" if len(parts) > 1 else "unknown release"
            return PoseSource({Path(n).name: (z.read(n), release) for n in need}, licence, "Apache-2.0" if licence else "")
    except zipfile.BadZipFile:
        raise UserError(f"{path} is not a wheel (not a zip file)") from None


def _read_npm(path: Path) -> PoseSource:
    try:
        with tarfile.open(path) as t:
            members = {m.name: m for m in t.getmembers() if m.isfile()}

            def read(name: str) -> bytes:
                f = t.extractfile(members[name])
                return f.read() if f else b""

            meta = json.loads(read(IN_NPM + "package.json")) if IN_NPM + "package.json" in members else {}
            release = f"{meta.get('name', 'npm package')} {meta.get('version', '')}".strip()
            files = {}
            for m in LANDMARK_MODELS:
                name = IN_NPM + tflite_name(m)
                if name in members:
                    files[tflite_name(m)] = (read(name), release)
            licence = read(IN_NPM + "LICENSE").decode() if IN_NPM + "LICENSE" in members else ""
    except (tarfile.TarError, OSError, json.JSONDecodeError) as e:
        raise UserError(f"{path} is not an npm package tarball: {str(e).splitlines()[0].rstrip(':')}") from None
    if not files:
        raise UserError(f"{path.name} holds no pose landmark model (package/pose_landmark_*.tflite): use "
                        f"{NPM_PACKAGE} (npm pack {NPM_PACKAGE})")
    return PoseSource(files, licence, str(meta.get("license", "")))


def _read_folder(path: Path) -> PoseSource:
    folder = path.parent if path.is_file() else path
    names = [DETECTOR_TFLITE, *(tflite_name(m) for m in LANDMARK_MODELS)]
    found = {n: sorted(folder.rglob(n)) for n in names}
    release = "unknown release"
    lic_files = [p for p in (folder / "LICENSE", *folder.parent.glob("mediapipe-*.dist-info/LICENSE")) if p.exists()]
    for d in folder.parents:
        meta = list(d.glob("mediapipe-*.dist-info"))
        if meta:
            release = "mediapipe " + meta[0].name.split("-")[1].removesuffix(".dist")
            lic_files = lic_files or [meta[0] / "LICENSE"]
            break
    files = {n: (paths[0].read_bytes(), release) for n, paths in found.items() if paths}
    if not files:
        raise UserError(f"no pose .tflite in {folder}: give the mediapipe wheel, the {NPM_PACKAGE} tarball, or a folder "
                        f"with {DETECTOR_TFLITE} and pose_landmark_*.tflite")
    return PoseSource(files, lic_files[0].read_text() if lic_files else "", "Apache-2.0" if lic_files else "")


def read_source(path: Path) -> PoseSource:
    path = Path(path)
    if not path.exists():
        raise UserError(f"not found: {path}")
    if path.suffix == ".whl":
        return _read_wheel(path)
    if path.suffix == ".tgz" or path.name.endswith(".tar.gz"):
        return _read_npm(path)
    return _read_folder(path)


def read_sources(paths: list[Path]) -> PoseSource:
    """Every source's files together; where two hold the same file, the first given wins."""
    files: dict[str, tuple[bytes, str]] = {}
    licence, licence_id = "", ""
    for p in paths:
        src = read_source(p)
        files = {**src.files, **files}
        licence = licence or src.licence
        licence_id = licence_id or src.licence_id
    return PoseSource(files, licence, licence_id)


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


def _models_wanted(src: PoseSource, asked: list[str] | None) -> list[str]:
    have = [m for m in LANDMARK_MODELS if tflite_name(m) in src.files]
    if asked is None:
        return [m for m in SHIPPED if m in have] or have
    for m in asked:
        if m not in LANDMARK_MODELS:
            raise UserError(f"--pose-models: {m!r} is not one of {', '.join(LANDMARK_MODELS)}")
        if m not in have:
            raise UserError(f"no {tflite_name(m)} in the sources: the npm package {NPM_PACKAGE} holds lite, full and heavy "
                            f"(npm pack {NPM_PACKAGE}), the mediapipe wheel only full")
    return asked


def _notice(report: dict) -> str:
    made = [f"{m['ir'].removesuffix('.xml')}.xml/.bin from {m['tflite']} ({m['release']})" for m in report["models"].values()]
    return ("The pose models in this folder are MediaPipe's BlazePose person detector and landmark models,\n"
            "Copyright The MediaPipe Authors, licensed under the Apache License 2.0 (LICENSE):\n"
            + "".join(f"  {line}\n" for line in made)
            + "Modified: converted from TensorFlow Lite to OpenVINO IR by 'homegym convert' (HomeGym Spotter), with\n"
            "the input's colour conversion and scaling added, the segmentation output removed and the weights\n"
            f"stored as {report['weights'].upper()}. The detector's anchor and decoding options, from MediaPipe's graph files,\n"
            "are written into the IR's runtime info.\n")


def run(sources: list[Path], out: Path, precision: str = "fp16", models: list[str] | None = None) -> dict:
    """Convert the detector and the landmark models asked for into ``out`` (detector.xml, landmarks_<model>.xml, LICENSE,
    NOTICE, convert_report.json); models converted there before and not asked for again stay."""
    import openvino as ov

    if precision not in ("fp16", "fp32"):
        raise UserError(f"the pose models convert to fp16 or fp32 weights, not {precision}")
    src = read_sources(sources)
    if src.licence_id and src.licence_id != "Apache-2.0":
        raise UserError(f"the pose models' package names the licence {src.licence_id}, not MediaPipe's Apache-2.0: "
                        "use the mediapipe wheel or the @mediapipe/pose package")
    wanted = _models_wanted(src, models)
    earlier_path = out / "convert_report.json"
    earlier = json.loads(earlier_path.read_text()) if earlier_path.exists() else {}
    if DETECTOR_TFLITE not in src.files and not (out / DETECTOR_FILE).exists():
        raise UserError(f"no {DETECTOR_TFLITE} in the sources and none converted in {out}: add the mediapipe 0.10.14 wheel "
                        "(pip download mediapipe==0.10.14 --no-deps); the npm package holds no detector")
    if earlier.get("weights", precision) != precision:
        raise UserError(f"{out} holds {earlier['weights']} pose IRs: convert to it with --precision {earlier['weights']}, "
                        "or into a new folder")
    jobs = [("pose_detector", DETECTOR_TFLITE, DETECTOR_FILE)] if DETECTOR_TFLITE in src.files else []
    jobs += [("pose_landmarks", tflite_name(m), landmarks_file(m)) for m in wanted]
    out.mkdir(parents=True, exist_ok=True)
    report: dict = {"sources": [Path(p).name for p in sources], "weights": precision,
                    "models": dict(earlier.get("models", {}))}
    with tempfile.TemporaryDirectory() as tmp:
        for kind, name, ir in jobs:
            content, release = src.files[name]
            tfl = Path(tmp) / name
            tfl.write_bytes(content)
            digest = hashlib.sha256(content).hexdigest()
            info = PoseModelInfo(kind, SIZES[kind], f"{release} {name} sha256:{digest}", LICENCE)
            try:
                model = build(tfl, kind, info)
            except RuntimeError as e:
                raise UserError(f"cannot read {name}: {str(e).splitlines()[-1]}") from None
            xml = out / ir
            ov.save_model(model, str(xml), compress_to_fp16=precision == "fp16")
            figures = check(kind, tfl, xml)
            report["models"][ir.removesuffix(".xml")] = {"ir": xml.name, "tflite": name, "release": release, "sha256": digest,
                                                         "check": figures}
            log.info("%s: %s", xml, figures)
    if src.licence:
        (out / "LICENSE").write_text(src.licence)
    elif not (out / "LICENSE").exists():
        log.warning("no licence text in the sources: %s holds no LICENSE (the package names %s); add the mediapipe wheel "
                    "as a source for it", out, src.licence_id or "none")
    (out / "NOTICE").write_text(_notice(report))
    report["passed"] = all(m["check"]["passed"] for m in report["models"].values())
    earlier_path.write_text(json.dumps(report, indent=1) + "\n")
    if not report["passed"]:
        raise UserError(f"the pose IRs in {out} differ from the .tflite beyond the bounds "
                        f"({MAX_LANDMARK_DIFF_PX} px, {MAX_SCORE_DIFF} in score): see convert_report.json")
    report["converted"] = [ir.removesuffix(".xml") for _, _, ir in jobs]
    return report


def summary(r: dict) -> str:
    lines = [f"pose models ({r['weights'].upper()} weights):"]
    for name in r["converted"]:
        m, c = r["models"][name], r["models"][name]["check"]
        lines.append(f"  {m['ir']} from {m['release']} {m['tflite']}: against the .tflite on {c['frames']} pictures: "
                     f"max coordinate diff {c['max_coord_diff_px']:.3f} px, max score diff {c['max_score_diff']:.4f}")
    return "\n".join(lines)
