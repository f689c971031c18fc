"""The pose stage: MediaPipe's BlazePose converted to OpenVINO, the tracking loop, its tools, and its parity
with MediaPipe's own Python solution on real clips (docs/pose.md)."""

from __future__ import annotations

import io
import json
import math
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import cv2
import numpy as np
import pytest
from support import ROOT, counted_rows, one_line_error, run_cli

from homegym.core.letterbox import Letterbox
from homegym.core.pose_info import NPM_PACKAGE, Anchors, Decoding
from homegym.daemon.config.settings import PoseConfig
from homegym.daemon.pose.detect import decode, make_anchors, weighted_nms
from homegym.daemon.pose.roi import Roi, crop_to_canvas, roi_from_points, warp
from homegym.daemon.pose.smooth import OneEuro, OneEuroParams
from homegym.daemon.pose.stage import DEFAULT_POSE_DIR, open_pose

SIDE_PUSHUP = "clips/pushup/vt_good_pushup_old.mp4"  # short real clips, side views
SIDE_SQUAT = "clips/squat/hackdartmouth_squat.mp4"
PARITY_CLIPS = ("vt_good_pushup_old", "hackdartmouth_squat", "varun_squat")


@pytest.fixture(scope="module")
def tracker():
    return open_pose(PoseConfig(), live=False, cache_dir=None)


def frames_of(path: Path, n: int | None = None) -> list[np.ndarray]:
    cap = cv2.VideoCapture(str(path))
    out = []
    while n is None or len(out) < n:
        ok, f = cap.read()
        if not ok:
            break
        out.append(f)
    return out


# -- the detector's decoding, the crop and the filter, as MediaPipe's graphs define them ------------------


def test_anchors_are_mediapipes_2254_in_layer_order():
    a = make_anchors(Anchors())
    assert a.shape == (2254, 2)
    assert np.allclose(a[0], [0.5 / 28, 0.5 / 28]) and np.allclose(a[1], a[0])  # two anchors a cell at stride 8
    assert np.allclose(a[2], [1.5 / 28, 0.5 / 28])
    assert np.allclose(a[1568], [0.5 / 14, 0.5 / 14])  # stride 16 starts after 28 * 28 * 2
    assert np.allclose(a[-6:], [[6.5 / 7, 6.5 / 7]] * 6)  # the three stride-32 layers share a grid: six a cell


def test_decoding_applies_threshold_and_weighted_suppression_merges_a_cluster():
    d = Decoding()
    anchors = make_anchors(Anchors())
    boxes = np.zeros((1, 2254, 12), np.float32)
    scores = np.full((1, 2254, 1), -10.0, np.float32)
    # two overlapping people-boxes on anchors 0 and 1 (same centre), one far away on the last anchor
    for i, (dx, score) in enumerate([(0.0, 3.0), (4.48, 1.0)]):
        boxes[0, i, :4] = [dx, 0, 44.8, 44.8]
        boxes[0, i, 4:6] = [dx, 0]
        scores[0, i, 0] = score
    boxes[0, -1, :4] = [0, 0, 22.4, 22.4]
    scores[0, -1, 0] = 0.5
    found = decode(boxes, scores, anchors, d)
    assert [round(f.score, 3) for f in found] == [round(1 / (1 + math.exp(-s)), 3) for s in (3.0, 1.0, 0.5)]
    merged = weighted_nms(found, d.nms_iou)
    assert len(merged) == 2
    w = np.array([found[0].score, found[1].score])
    expect_x = (w * [anchors[0, 0], anchors[1, 0] + 0.02]).sum() / w.sum()
    assert merged[0].score == found[0].score and merged[0].keypoints[0, 0] == pytest.approx(expect_x, abs=1e-6)


def test_a_body_lying_horizontally_gets_an_upright_crop():
    hips = np.array([0.5, 0.5])
    # standing: the body-radius point straight above the hips -> no rotation
    r = roi_from_points(hips, hips + [0, -0.2], 1.25)
    assert r.rotation == pytest.approx(0.0, abs=1e-6) and r.size == pytest.approx(0.5)
    # a push-up, head to the right: the crop turns a quarter, so the body is upright in it
    r = roi_from_points(hips, hips + [0.2, 0], 1.25)
    assert abs(r.rotation) == pytest.approx(math.pi / 2)
    top_centre = crop_to_canvas(r, np.array([[0.5, 0.0]], np.float32))[0]
    assert top_centre == pytest.approx([0.75, 0.5], abs=1e-6)  # the crop's top is where the head is


def test_the_warp_and_the_projection_back_are_one_transform():
    canvas = np.zeros((200, 200, 3), np.uint8)
    canvas[60:64, 130:134] = 255  # a bright dot at (132, 62)
    roi = Roi(0.55, 0.4, 0.5, 0.7)
    crop = warp(canvas, roi, 128)
    v, u = np.unravel_index(crop[..., 0].argmax(), crop.shape[:2])
    back = crop_to_canvas(roi, np.array([[(u + 0.5) / 128, (v + 0.5) / 128]], np.float32))[0] * 200
    assert back == pytest.approx([132, 62], abs=2.0)


def test_the_one_euro_filter_holds_still_values_and_follows_fast_moves():
    f = OneEuro(OneEuroParams(0.05, 80.0))
    rng = np.random.default_rng(0)
    noise = rng.normal(0, 1, 90)
    still = [f(np.array([100.0 + n]), i / 30, 300.0)[0] for i, n in enumerate(noise)]
    assert np.std(still[30:]) < 0.6 * np.std(noise[30:])  # a still person's 1-pixel jitter, mostly smoothed away
    f.reset()
    moving = [f(np.array([100.0 + 20 * i]), i / 30, 50.0)[0] for i in range(30)]
    assert 100 + 20 * 29 - moving[-1] < 40  # a fast move lags by under two frames' travel


def test_letterbox_maps_canvas_points_back_to_the_frame():
    lb = Letterbox(512)
    canvas = lb(np.full((480, 960, 3), 200, np.uint8))
    assert lb.box.w == 512 and lb.box.h == 256 and lb.box.y == 128
    assert canvas[0, 0].tolist() == [0, 0, 0] and canvas[256, 256].tolist() == [200, 200, 200]
    assert lb.to_frame(np.array([[0.5, 0.25], [1.0, 0.75]])).tolist() == [[0.5, 0.0], [1.0, 1.0]]


# -- the conversion: the wheel's .tflite files to the shipped IRs ------------------------------------------


@pytest.fixture(scope="module")
def mediapipe_wheel(tmp_path_factory) -> Path:
    """The mediapipe 0.10.14 wheel from the package registry (the only place the two .tflite files come from)."""
    out = tmp_path_factory.mktemp("wheel")
    r = subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "mediapipe==0.10.14", "-d", str(out)],
                       capture_output=True, text=True, timeout=600)
    wheels = list(out.glob("mediapipe-0.10.14-*.whl"))
    if r.returncode != 0 or not wheels:
        pytest.skip(f"mediapipe 0.10.14 not downloadable here: {r.stderr.strip()[-200:]}")
    return wheels[0]


def test_convert_makes_the_shipped_pose_irs_from_the_wheel(mediapipe_wheel, tmp_path):
    import openvino as ov

    r = run_cli("convert", str(mediapipe_wheel), "-o", str(tmp_path / "pose"), "--precision", "fp16")
    assert r.returncode == 0, r.stderr[-2000:]
    assert "max coordinate diff" in r.stdout
    core = ov.Core()
    for name in ("detector.xml", "landmarks_full.xml"):
        made, shipped = core.read_model(str(tmp_path / "pose" / name)), core.read_model(str(DEFAULT_POSE_DIR / name))
        for key in ("kind", "model_version", "licence", "input"):
            assert made.get_rt_info(["homegym", key]).astype(str) == shipped.get_rt_info(["homegym", key]).astype(str)
        weights = name.replace(".xml", ".bin")
        assert (tmp_path / "pose" / weights).read_bytes() == (DEFAULT_POSE_DIR / weights).read_bytes()
    det = core.read_model(str(tmp_path / "pose" / "detector.xml"))
    assert "pose_detection.tflite sha256:" in det.get_rt_info(["homegym", "model_version"]).astype(str)
    assert '"strides": [8, 16, 32, 32, 32]' in det.get_rt_info(["homegym", "anchors"]).astype(str)
    assert "Apache License" in (tmp_path / "pose" / "LICENSE").read_text()
    assert "converted" in (tmp_path / "pose" / "NOTICE").read_text()


@pytest.fixture(scope="module")
def npm_pose_package(tmp_path_factory) -> Path:
    """The npm package @mediapipe/pose as ``npm pack`` writes it (the lite, full and heavy landmark models)."""
    out = tmp_path_factory.mktemp("npm")
    try:
        r = subprocess.run(["npm", "pack", "-q", NPM_PACKAGE], cwd=out, capture_output=True, text=True, timeout=600)
    except FileNotFoundError:
        pytest.skip("npm is not installed here")
    tarballs = list(out.glob("mediapipe-pose-*.tgz"))
    if r.returncode != 0 or not tarballs:
        pytest.skip(f"{NPM_PACKAGE} not downloadable here: {r.stderr.strip()[-200:]}")
    return tarballs[0]


def test_convert_makes_the_shipped_lite_ir_from_the_npm_package(mediapipe_wheel, npm_pose_package, tmp_path):
    import openvino as ov

    out = tmp_path / "pose"
    r = run_cli("convert", str(mediapipe_wheel), str(npm_pose_package), "-o", str(out), "--precision", "fp16")
    assert r.returncode == 0, r.stderr[-2000:]
    assert {p.name for p in out.glob("*.xml")} == {"detector.xml", "landmarks_lite.xml", "landmarks_full.xml"}, "heavy: on demand"
    for name in ("detector", "landmarks_lite", "landmarks_full"):
        assert (out / f"{name}.bin").read_bytes() == (DEFAULT_POSE_DIR / f"{name}.bin").read_bytes(), name
    version = ov.Core().read_model(str(out / "landmarks_lite.xml")).get_rt_info(["homegym", "model_version"]).astype(str)
    assert version.startswith("@mediapipe/pose 0.5.1675469404 pose_landmark_lite.tflite sha256:")
    notice = (out / "NOTICE").read_text()
    assert "pose_landmark_lite.tflite (@mediapipe/pose 0.5.1675469404)" in notice and "Apache License 2.0" in notice
    assert "Apache License" in (out / "LICENSE").read_text()
    report = json.loads((out / "convert_report.json").read_text())
    shipped = json.loads((DEFAULT_POSE_DIR / "convert_report.json").read_text())
    assert _measured_apart(report) == _measured_apart(shipped) | {"sources": report["sources"]}
    for name, model in report["models"].items():  # the same IR against the same .tflite: only the CPU's rounding moves these
        for key, within in (("max_coord_diff_px", 1e-3), ("max_score_diff", 1e-4)):
            assert abs(model["check"][key] - shipped["models"][name]["check"][key]) <= within, (name, key)


def _measured_apart(report: dict) -> dict:
    """The convert report without the IR's measured differences from the .tflite, which move in their last digit from one
    CPU to another (its float kernels) while the IRs stay byte for byte the same."""
    models = report["models"]
    return report | {"models": {name: m | {"check": {k: v for k, v in m["check"].items() if not k.startswith("max_")}}
                                for name, m in models.items()}}


@pytest.mark.realdata
def test_heavy_is_converted_on_demand_beside_the_shipped_models_and_tracks(npm_pose_package, shared_data, tmp_path):
    folder = tmp_path / "pose"
    shutil.copytree(DEFAULT_POSE_DIR, folder)
    r = run_cli("convert", str(npm_pose_package), "-o", str(folder), "--precision", "fp16", "--pose-models", "heavy")
    assert r.returncode == 0, r.stderr[-2000:]
    assert "landmarks_heavy.xml from @mediapipe/pose" in r.stdout and "detector" not in r.stdout
    report = json.loads((folder / "convert_report.json").read_text())
    assert set(report["models"]) == {"detector", "landmarks_lite", "landmarks_full", "landmarks_heavy"} and report["passed"]
    assert "pose_landmark_heavy.tflite" in (folder / "NOTICE").read_text()
    heavy = open_pose(PoseConfig(model="heavy", path=str(folder)), live=False, cache_dir=None)
    poses = [heavy.step(Letterbox(512)(f), i / 30) for i, f in enumerate(frames_of(shared_data / SIDE_SQUAT, 30))]
    assert sum(p.found for p in poses) >= 28 and heavy.detections == 1


def test_convert_refuses_a_tarball_without_the_models_or_a_detector_in_one_line(npm_pose_package, tmp_path):
    empty = tmp_path / "empty.tgz"
    with tarfile.open(empty, "w:gz") as t:
        meta = json.dumps({"name": "@mediapipe/pose", "version": "0.5.1675469404", "license": "Apache-2.0"}).encode()
        info = tarfile.TarInfo("package/package.json")
        info.size = len(meta)
        t.addfile(info, io.BytesIO(meta))
    assert "holds no pose landmark model" in one_line_error(run_cli("convert", str(empty), "-o", str(tmp_path / "o")))
    (tmp_path / "bad.tgz").write_text("not a tarball")
    assert "not an npm package tarball" in one_line_error(run_cli("convert", str(tmp_path / "bad.tgz"), "-o", str(tmp_path / "o")))
    alone = one_line_error(run_cli("convert", str(npm_pose_package), "-o", str(tmp_path / "o")))
    assert "no pose_detection.tflite" in alone and "mediapipe 0.10.14 wheel" in alone
    wrong = one_line_error(run_cli("convert", str(npm_pose_package), "-o", str(tmp_path / "o"), "--pose-models", "huge"))
    assert "'huge' is not one of lite, full, heavy" in wrong


def test_a_pose_model_whose_ir_is_missing_is_one_line_that_says_how_to_convert_it(image_clips, tmp_path):
    folder = tmp_path / "pose"
    folder.mkdir()
    for name in ("detector", "landmarks_full"):
        for ext in (".xml", ".bin"):
            shutil.copy(DEFAULT_POSE_DIR / f"{name}{ext}", folder)
    cfg = tmp_path / "config.yaml"
    cfg.write_text(f"pose:\n  path: {folder}\n  model: heavy\n")
    clip = str(image_clips / counted_rows(image_clips)[0]["file"])
    for cmd in (["count", clip, "--config", str(cfg)], ["check-config", str(cfg)], ["pose", clip, "--config", str(cfg)]):
        err = one_line_error(run_cli(*cmd))
        assert "no landmarks_heavy.xml" in err and "homegym convert" in err and "--pose-models heavy" in err, cmd
    shutil.copy(folder / "landmarks_full.xml", folder / "landmarks_heavy.xml")
    shutil.copy(folder / "landmarks_full.bin", folder / "landmarks_heavy.bin")
    assert "is not BlazePose's heavy landmark model" in one_line_error(run_cli("pose", clip, "--config", str(cfg)))


def test_pose_precision_auto_is_bf16_only_where_measured_to_hold_and_bf16_where_asked_and_the_stage_runs_in_it():
    from homegym.core.runtime import cpu_has_bf16, make_core, pose_precision

    for model in ("lite", "full"):
        assert pose_precision("auto", has_bf16=True, model=model) == "f32", "its counts changed under bf16: measured"
        assert pose_precision("bf16", has_bf16=True, model=model) == "bf16", "asked for"
        assert pose_precision("bf16", has_bf16=False, model=model) == "f32", "no bf16 on this CPU"
    assert pose_precision("auto", has_bf16=True, model="heavy") == "f32", "not measured"
    assert pose_precision("f32", has_bf16=True, model="lite") == "f32"
    here = "bf16" if cpu_has_bf16(make_core(None)) else "f32"
    for model, setting, want in (("lite", "bf16", here), ("lite", "auto", "f32"), ("lite", "f32", "f32"), ("full", "auto", "f32")):
        stage = open_pose(PoseConfig(model=model, precision=setting), live=True, cache_dir=None)
        for request in (stage.landmarks.request, stage.detector.request):
            got = request.get_compiled_model().get_property("INFERENCE_PRECISION_HINT")
            assert got.to_string() == want, (model, setting, got)


def test_convert_refuses_a_wheel_without_the_pose_models_in_one_line(tmp_path):
    import zipfile

    fake = tmp_path / "mediapipe-0.10.14-x.whl"
    with zipfile.ZipFile(fake, "w") as z:
        z.writestr("mediapipe/__init__.py", "")
    assert "holds no mediapipe/modules/pose_detection" in one_line_error(run_cli("convert", str(fake), "-o", str(tmp_path / "o")))
    (tmp_path / "bad.whl").write_text("not a zip")
    assert "not a wheel" in one_line_error(run_cli("convert", str(tmp_path / "bad.whl"), "-o", str(tmp_path / "o")))


def test_the_shipped_pose_models_carry_their_licence_and_attribution():
    assert "Apache License" in (DEFAULT_POSE_DIR / "LICENSE").read_text()
    notice = (DEFAULT_POSE_DIR / "NOTICE").read_text()
    assert "MediaPipe" in notice and "converted" in notice and "Apache License 2.0" in notice


# -- the tracking loop on real frames --------------------------------------------------------------------


@pytest.mark.realdata
def test_the_stage_tracks_a_real_person_and_detects_only_when_lost(tracker, shared_data):
    lb = Letterbox(512)
    tracker.reset()
    frames = frames_of(shared_data / SIDE_PUSHUP)
    poses = [tracker.step(lb(f), i / 30) for i, f in enumerate(frames)]
    found = np.array([p.found for p in poses])
    assert found.mean() > 0.95
    detections = sum(p.detected for p in poses)
    assert 1 <= detections <= 0.1 * len(frames)
    p = poses[len(poses) // 2]
    assert p.landmarks.shape == (33, 4) and p.world.shape == (33, 3) and 0.5 <= p.presence <= 1.0
    # the person lies horizontally (side view of a push-up): the crop is turned to make them upright
    assert abs(abs(p.roi.rotation) - math.pi / 2) < math.pi / 4


@pytest.mark.realdata
def test_black_frames_and_a_person_leaving_and_coming_back(tracker, shared_data):
    lb = Letterbox(512)
    tracker.reset()
    person = frames_of(shared_data / SIDE_SQUAT, 30)
    black = [np.zeros_like(person[0])] * 10
    poses = [tracker.step(lb(f), i / 30) for i, f in enumerate(person + black + person)]
    first, gone, back = poses[:30], poses[30:40], poses[40:]
    assert sum(p.found for p in first) >= 27
    # no stale skeleton: the person is gone from the first black frame on, and the detector runs on every one after
    assert not any(p.found for p in gone)
    assert all(p.detected for p in gone[1:])
    assert all(not p.landmarks.any() for p in gone)
    assert gone[0].presence < 0.5
    assert sum(p.found for p in back) >= 27 and back[0].detected


@pytest.mark.realdata
def test_live_an_empty_room_runs_the_detector_at_the_idle_rate_and_a_person_is_found_soon(shared_data):
    lb = Letterbox(512)
    tracker = open_pose(PoseConfig(idle_detect_fps=5.0), live=True, cache_dir=None)
    person = frames_of(shared_data / SIDE_SQUAT, 20)
    black = [np.zeros_like(person[0])] * 30
    poses = [tracker.step(lb(f), i / 30) for i, f in enumerate(black + person)]
    assert 5 <= sum(p.detected for p in poses[:30]) <= 6  # one second of an empty room: five detector runs, not thirty
    first = next(i for i, p in enumerate(poses) if p.found)
    assert 30 <= first <= 30 + 6  # found within 1 / idle_detect_fps of stepping in
    assert sum(p.found for p in poses[first:]) >= len(poses) - first - 1


@pytest.mark.realdata
def test_of_two_people_the_largest_is_taken_and_the_one_followed_is_kept(tracker, shared_data):
    lb = Letterbox(512)
    a = frames_of(shared_data / SIDE_SQUAT, 20)
    h, w = a[0].shape[:2]
    poses = []
    tracker.reset()
    for i, f in enumerate(a):
        small = cv2.resize(f, (w // 2, h // 2))
        pair = np.zeros((h, w + w // 2, 3), np.uint8)
        pair[:, :w] = f  # the same person twice: full size on the left, half size on the right
        pair[h // 4: h // 4 + h // 2, w:] = small
        poses.append(tracker.step(lb(pair), i / 30))
    found = [p for p in poses if p.found]
    assert len(found) >= 18
    hips_x = [lb.to_frame(p.landmarks[[23, 24], :2]).mean(0)[0] for p in found]
    assert max(hips_x) < w / (w + w // 2)  # always the big one on the left
    # the one being followed is kept when a larger person steps in
    poses = []
    tracker.reset()
    for i, f in enumerate(a):
        pair = np.zeros((h, w + w // 2, 3), np.uint8)
        pair[h // 4: h // 4 + h // 2, w:] = cv2.resize(f, (w // 2, h // 2))
        if i >= 8:
            pair[:, :w] = f
        poses.append(tracker.step(lb(pair), i / 30))
    found = [p for p in poses if p.found]
    assert len(found) >= 18 and not any(p.detected for p in poses[8:] if p.found)
    hips_x = [lb.to_frame(p.landmarks[[23, 24], :2]).mean(0)[0] for p in found]
    assert min(hips_x) > w / (w + w // 2)  # still the small one on the right


# -- the tools: homegym pose, count --annotate ---------------------------------------------------------------


@pytest.mark.realdata
def test_homegym_pose_writes_the_documented_keypoint_file(shared_data, tmp_path):
    out = tmp_path / "keys.npz"
    r = run_cli("pose", str(shared_data / SIDE_PUSHUP), "-o", str(out), "--stride", "2")
    assert r.returncode == 0, r.stderr[-2000:]
    k = np.load(out)
    n = len(k["frame"])
    assert k["frame"].tolist() == list(range(0, 2 * n, 2))
    assert k["landmarks"].shape == (n, 33, 4) and k["world"].shape == (n, 33, 3) and k["roi"].shape == (n, 4)
    assert k["found"].mean() > 0.9 and int(k["width"]) == 640
    seen = k["landmarks"][k["found"]]
    assert np.nanmin(seen[..., 1]) > -0.5 and np.nanmax(seen[..., 1]) < 1.5  # frame-normalised
    assert np.isnan(k["landmarks"][~k["found"]]).all()
    assert '"format": "homegym-pose/1"' in str(k["meta"])
    assert "a person on" in r.stdout


def test_homegym_pose_refuses_bad_input_in_one_line(image_clips, tmp_path):
    assert "video not found" in one_line_error(run_cli("pose", str(tmp_path / "nope.mp4")))
    clip = str(image_clips / counted_rows(image_clips)[0]["file"])
    assert "--stride must be 1 or more" in one_line_error(run_cli("pose", clip, "--stride", "0"))
    cfg = tmp_path / "config.yaml"
    cfg.write_text(f"pose:\n  path: {tmp_path / 'nowhere'}\n")
    assert "pose model not found: no folder" in one_line_error(run_cli("pose", clip, "--config", str(cfg)))
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "detector.xml").write_text("<net></net>")
    (tmp_path / "bad" / "detector.bin").write_bytes(b"")
    (tmp_path / "bad" / "landmarks.xml").write_text("<net></net>")
    (tmp_path / "bad" / "landmarks.bin").write_bytes(b"")
    cfg.write_text(f"pose:\n  path: {tmp_path / 'bad'}\n")
    assert "not a HomeGym pose IR" in one_line_error(run_cli("pose", clip, "--config", str(cfg)))


@pytest.mark.realdata
def test_count_annotate_draws_the_skeleton(shared_data, tmp_path):
    out = tmp_path / "why.mp4"
    r = run_cli("count", str(shared_data / SIDE_SQUAT), "--annotate", str(out))
    assert r.returncode == 0, r.stderr[-2000:]
    frames = frames_of(out)
    assert frames and frames[0].shape[0] >= 512  # the stage's 512 canvas, beside a panel as tall as the labels need
    bone_green = [((f[..., 1] > 200) & (f[..., 0] < 120) & (f[..., 2] < 120))[:512, :512].sum() for f in frames]
    assert np.mean(np.array(bone_green) > 50) > 0.8  # the skeleton is drawn on most frames


# -- parity with MediaPipe's own Python solution -------------------------------------------------------------


@pytest.fixture(scope="module")
def reference_python(tmp_path_factory) -> Path:
    venv = tmp_path_factory.mktemp("mediapipe") / "venv"
    r = subprocess.run(["bash", str(ROOT / "scripts" / "pose_reference_venv.sh"), str(venv)], capture_output=True, text=True,
                       timeout=900)
    if r.returncode != 0:
        pytest.skip(f"the MediaPipe reference venv could not be built here: {r.stderr.strip()[-300:]}")
    return venv / "bin" / "python"


@pytest.fixture(scope="module")
def heavy_folder(npm_pose_package, tmp_path_factory) -> Path:
    """The shipped pose folder with the heavy landmark model converted beside it, as a user converts it."""
    folder = tmp_path_factory.mktemp("heavy") / "pose"
    shutil.copytree(DEFAULT_POSE_DIR, folder)
    r = run_cli("convert", str(npm_pose_package), "-o", str(folder), "--precision", "fp16", "--pose-models", "heavy")
    assert r.returncode == 0, r.stderr[-2000:]
    return folder


@pytest.mark.realdata
@pytest.mark.slow
@pytest.mark.parametrize("model", ["full", "lite", "heavy"])
def test_parity_with_mediapipe_on_real_clips(model, reference_python, shared_data, request, tmp_path):
    """Each landmark model against MediaPipe's own solution at the same model complexity (heavy on every 3rd frame)."""
    out = tmp_path / "parity.md"
    extra: list[str] = []
    if model == "heavy":
        cfg = tmp_path / "heavy.yaml"
        cfg.write_text(f"pose:\n  path: {request.getfixturevalue('heavy_folder')}\n")
        extra = ["--config", str(cfg), "--stride", "3"]
    r = run_cli("pose-parity", str(shared_data / "clips.csv"), "--reference-python", str(reference_python), "--pose-model", model,
                "--clips", *PARITY_CLIPS, "-o", str(out), *extra, timeout=1200)
    assert r.returncode == 0, r.stderr[-2000:]
    rows = [line.split("|") for line in out.read_text().splitlines() if line.startswith("| ") and ".mp4" in line]
    assert len(rows) == len(PARITY_CLIPS)
    reference_found = np.array([int(row[4]) for row in rows])
    share = np.array([float(row[5].strip(" %")) / 100 for row in rows])
    # of the frames where MediaPipe finds a person: lite in f32 finds the person on 91.4 % of varun_squat's
    # (docs/pose-parity.md), 97.6 % of these three clips' frames
    assert (reference_found * share).sum() / reference_found.sum() >= (0.97 if model == "lite" else 0.98)
    for row in rows:
        assert float(row[6]) <= 0.05, row  # median landmark error, torso lengths, on frames both find


# -- in the daemon: the stage beside the classifier, and a reload ----------------------------------------------


def test_the_stage_does_not_change_what_the_classifier_counts(image_ir, image_clips, tmp_path):
    """The classifier's frames come from the decoded frame as without the stage (the ring keeps the canvas beside them)."""
    from homegym.daemon.config.settings import for_file, load
    from homegym.daemon.pipeline.pipeline import Pipeline

    # pushup_00009 counted one rep less when the classifier's frames were framed from the canvas: the case to hold
    for row in [r for r in counted_rows(image_clips) if r["name"] in ("pushup_00009", "lie_00005")]:
        clip = image_clips / row["file"]
        # the rep measures off: with the stage on they would measure each rep (counter.min_travel_deg), which is not the
        # classifier's frames
        cfg = for_file(load(None), clip).with_values("form", enabled=False)
        off = Pipeline.open(cfg, image_ir).run()
        pipe = Pipeline.open(cfg.with_values("pose", enabled=True), image_ir)
        on = pipe.run()
        assert (on.total, on.by_exercise) == (off.total, off.by_exercise) == (int(row["reps"]), on.by_exercise), row["name"]
        assert on.pose_ms is not None and off.pose_ms is None and on.frames == off.frames


def test_a_reload_turns_the_stage_on_in_the_running_service(image_ir, image_clips, tmp_path):
    import threading

    from homegym.daemon.config import settings as config_mod
    from homegym.daemon.service.service import Service

    row = next(c for c in counted_rows(image_clips) if int(c["reps"]) >= 2)
    text = (f"source:\n  uri: {image_clips / row['file']}\n  realtime: true\nmodel:\n  path: {image_ir}\n"
            f"mqtt:\n  enabled: false\nstate:\n  dir: {tmp_path / 'state'}\n")
    cfg = tmp_path / "config.yaml"
    cfg.write_text(text)
    ready = threading.Event()
    seen: list = []

    class Watched(Service):
        def on_ready(self) -> None:
            super().on_ready()
            ready.set()

        def on_frame(self, f) -> None:
            super().on_frame(f)
            seen.append(f.pose)

    svc = Watched(config_mod.load(cfg), config_path=cfg)
    svc.start()
    assert svc.pipe is not None and svc.pipe.pose is None
    result: dict = {}
    runner = threading.Thread(target=lambda: result.setdefault("s", svc.run()))
    runner.start()
    assert ready.wait(60)
    cfg.write_text(text + "pose:\n  enabled: true\n")
    svc.request_reload()
    runner.join(90)
    assert not runner.is_alive()
    assert svc.pipe.pose is not None and result["s"].pose_ms is not None
    assert seen[0] is None and seen[-1] is not None and seen[-1].found  # the rendered figure is found after the reload
    assert result["s"].total == int(row["reps"])  # the clip ran whole again after the restart
