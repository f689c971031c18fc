"""The keypoint classifier: its features (one implementation for training and the daemon), the keypoint files
training reads, training and converting one, and the daemon running it on the pose stage."""

from __future__ import annotations

import json
import shutil
import threading

import numpy as np
import pytest
from support import counted_rows, needs_tf, one_line_error, run_cli

from homegym.core import keypoint_features as kf
from homegym.core.errors import UserError
from homegym.core.pose_track import PoseTrack, video_digest
from homegym.daemon.classify.factory import DEFAULT_MODEL_DIR, IMAGE_MODEL_DIR
from homegym.daemon.config.settings import PoseConfig
from homegym.measure.tune import EXERCISE_GRID

LABELS = ("neither", "pushup_up", "pushup_down", "squat_up", "squat_down")


@pytest.fixture(scope="module")
def pushup_track(image_clips, tmp_path_factory) -> PoseTrack:
    """A rendered push-up clip through the real pose stage (``homegym pose``)."""
    row = next(r for r in counted_rows(image_clips) if r["exercise"] == "pushup")
    out = tmp_path_factory.mktemp("track") / "keys.npz"
    r = run_cli("pose", str(image_clips / row["file"]), "-o", str(out))
    assert r.returncode == 0, r.stderr[-2000:]
    return PoseTrack.load(out)


def _features(track: PoseTrack, xy: np.ndarray | None = None, world: np.ndarray | None = None,
              spec: kf.FeatureSpec | None = None) -> np.ndarray:
    ff = kf.frame_features(track.xy if xy is None else xy, track.world if world is None else world, track.landmarks[..., 3],
                           track.presence, track.found, max(track.width, track.height))
    return kf.features(ff, track.t, spec or kf.FeatureSpec())


def test_version_2_tells_a_body_moving_past_still_hands_from_hands_moving_past_a_still_body(pushup_track) -> None:
    """A pull-up and a press make the same shapes of the body: version 1's features cannot tell them apart, version 2's
    heights in the frame can (the hips swing in the one, the wrists in the other)."""
    tr = pushup_track
    keep = tr.found
    xy, world, t = tr.xy[keep].astype(np.float64), tr.world[keep], tr.t[keep]
    hips, wrists = (xy[:, [a, b]].mean(1, keepdims=True) for a, b in ((kf.L_HIP, kf.R_HIP), (kf.L_WR, kf.R_WR)))
    press = xy - (hips - hips[:1])  # the clip's body shapes, moved so the hips stay put
    pullup = xy - (wrists - wrists[:1])  # ... so the hands stay put
    ff = {name: kf.frame_features(v, world, tr.landmarks[keep, :, 3], tr.presence[keep], np.ones(len(t), bool), tr.width)
          for name, v in (("press", press), ("pullup", pullup))}
    old, new = kf.FeatureSpec(version="homegym-keypoint-features/1"), kf.FeatureSpec()
    np.testing.assert_allclose(kf.features(ff["press"], t, old), kf.features(ff["pullup"], t, old), atol=1e-4)
    span = {name: kf.features(f, t, new)[:, -kf.SWINGING:] for name, f in ff.items()}  # the window's range, per column
    assert span["press"][:, -2].max() < 1e-6 and span["pullup"][:, -1].max() < 1e-6, "what was held still"
    assert span["press"][:, -1].max() > 0.05 and span["pullup"][:, -2].max() > 0.05, "what moved, by a twentieth of the frame"


@pytest.mark.parametrize("version", list(kf.VERSIONS))
def test_the_daemon_frame_by_frame_computes_exactly_what_training_computes_over_the_clip(pushup_track, version: str) -> None:
    """Every version the daemon still reads (a model of one's own trained on an older one keeps working)."""
    tr = pushup_track
    spec = kf.FeatureSpec(version=version)
    assert tr.found.mean() > 0.8 and (~tr.found).any(), "a clip with frames where nobody was found, and many where someone was"
    whole = _features(tr, spec=spec)
    stream = kf.FeatureStream(spec, max(tr.width, tr.height))
    one_by_one = np.stack([stream.step(float(tr.t[i]), tr.xy[i], tr.world[i], tr.landmarks[i, :, 3], float(tr.presence[i]),
                                       bool(tr.found[i])) for i in range(len(tr.t))])
    assert whole.shape == (len(tr.t), spec.width) and np.isfinite(whole).all()
    np.testing.assert_array_equal(one_by_one, whole)
    assert (whole[~tr.found, : kf.STATIC] == 0).all(), "nobody found: the frame's own features are empty"
    # a new source (time starts again) starts an empty window: the first frame's features again
    np.testing.assert_array_equal(stream.step(0.0, tr.xy[0], tr.world[0], tr.landmarks[0, :, 3], float(tr.presence[0]),
                                              bool(tr.found[0])), whole[0])


def test_the_daemons_features_on_its_canvas_are_trainings_on_the_keypoint_file(image_clips, tmp_path, monkeypatch) -> None:
    """The pipeline computes features from the stage's letterboxed canvas, frame by frame on its own clock;
    training from `homegym pose`'s file, in the frame's pixels, on float32 times. The same numbers, or the
    classifier would see other inputs live than it learnt on."""
    from homegym.daemon.classify import keypoints
    from homegym.daemon.config.settings import Config, for_file
    from homegym.daemon.pipeline.pipeline import Pipeline
    from homegym.train.keypoints.data import track_features

    row = next(r for r in counted_rows(image_clips) if r["exercise"] == "squat" and int(r["reps"]) > 0)
    clip = image_clips / row["file"]
    seen: list[np.ndarray] = []
    original = keypoints.KeypointClassifier.features

    def spy(self, pose, t):
        seen.append(original(self, pose, t))
        return seen[-1]

    monkeypatch.setattr(keypoints.KeypointClassifier, "features", spy)
    pipe = Pipeline.open(for_file(Config(), clip))
    pipe.run()
    r = run_cli("pose", str(clip), "-o", str(tmp_path / "keys.npz"))
    assert r.returncode == 0, r.stderr[-2000:]
    spec = pipe.classifier.stream.spec
    assert spec.version == kf.VERSION, "the shipped model reads the newest features"
    trained = track_features(PoseTrack.load(tmp_path / "keys.npz"), spec)
    assert len(seen) == len(trained)
    np.testing.assert_allclose(np.stack(seen), trained, atol=5e-3)


def test_label_from_reps_sharpens_with_the_pose_stages_keypoints(pushup_track, image_clips, tmp_path) -> None:
    """--tracks: the label rule reads the pose stage's own keypoints, and agrees with the renderer's exact labels."""
    from homegym.core import labelfile

    row = next(r for r in counted_rows(image_clips) if r["exercise"] == "pushup")
    (tmp_path / "tracks").mkdir()
    pushup_track.save(tmp_path / "tracks" / f"{row['name']}.npz", row["file"], pushup_track.model)
    r = run_cli("label", "--from-reps", str(image_clips / "clips.csv"), "--out", str(tmp_path / "labels"), "--tracks",
                str(tmp_path / "tracks"))
    assert r.returncode == 0, r.stderr[-2000:]
    derived = labelfile.read(tmp_path / "labels" / f"{row['name']}.labels.csv")
    assert derived.meta["rule"] == "from-reps+keypoints"
    exact = labelfile.read(image_clips / f"{row['name']}.labels.csv")
    index = {lab: i for i, lab in enumerate(sorted(exact.labels | derived.labels))}
    n = int(pushup_track.frame.max()) + 1
    a, b = derived.per_frame(n, index), exact.per_frame(n, index)
    both = (a >= 0) & (b >= 0)
    assert both.sum() > 20 and (a[both] == b[both]).mean() >= 0.95


def test_features_do_not_depend_on_where_the_person_is_nor_how_big_nor_which_way_they_face(pushup_track) -> None:
    """All but the heights in the frame, which are in the frame's unit: a closer camera moves them further."""
    tr = pushup_track
    base = _features(tr)
    moved = _features(tr, xy=tr.xy + np.array([523.0, -345.0]))  # another place in the frame
    np.testing.assert_allclose(moved, base, atol=2e-3)  # float32 pixels: 1e-3 body sizes
    closer = _features(tr, xy=tr.xy * 1.7 + np.array([523.0, -345.0]))
    spec, sw = kf.FeatureSpec(), kf.SWINGING
    in_frame = [kf.STATIC + block * sw + c for block in range(len(spec.deltas_s) + 2) for c in (sw - 2, sw - 1)]
    grows = [c for c in in_frame if (c - kf.STATIC) // sw != len(spec.deltas_s)]  # their changes and range; not where they stand
    np.testing.assert_allclose(np.delete(closer, grows, axis=1), np.delete(base, grows, axis=1), atol=2e-3)
    np.testing.assert_allclose(closer[:, grows], 1.7 * base[:, grows], atol=2e-3)
    a = np.deg2rad(70)  # the person turned about the vertical: the 3D angles and the torso's uprightness stay
    rot = np.array([[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]])
    turned = _features(tr, world=tr.world @ rot.T)
    cols = np.r_[2 * len(kf.BODY) + len(kf.ANGLES): 2 * len(kf.BODY) + 2 * len(kf.ANGLES), kf.UPRIGHT_3D]
    np.testing.assert_allclose(turned[:, cols], base[:, cols], atol=2e-5)


def test_the_push_up_gate_moves_a_standing_bodys_push_up_phases_to_neither() -> None:
    spec = kf.FeatureSpec()
    feats = np.zeros((3, spec.width), np.float32)
    feats[:, kf.UPRIGHT_3D] = [0.2, 0.85, 1.0]  # lying, leaning, standing
    probs = np.tile(np.array([0.1, 0.1, 0.6, 0.1, 0.1], np.float32), (3, 1))
    out = kf.gate(probs, feats, LABELS, spec)
    np.testing.assert_allclose(out.sum(1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(out[0], probs[0])
    assert out[1, 2] == pytest.approx(0.3) and out[2, 2] == 0 and out[2, 0] == pytest.approx(0.8)
    np.testing.assert_allclose(kf.gate(probs, feats, LABELS, kf.FeatureSpec(pushup_gate=(1.0, 1.0))), probs)


def test_homegym_poses_writes_every_clip_once_and_resumes(image_clips, tmp_path) -> None:
    out = tmp_path / "keys"
    r = run_cli("poses", str(image_clips / "clips.csv"), "-o", str(out), timeout=900)
    assert r.returncode == 0, r.stderr[-2000:]
    rows = counted_rows(image_clips)
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{row['name']}.npz" for row in rows)
    first = PoseTrack.load(out / f"{rows[0]['name']}.npz")
    assert f"pose_landmark_{PoseConfig().model}.tflite" in first.model and len(first.t) == int(rows[0]["frames"])
    assert first.video_sha256 == video_digest(image_clips / rows[0]["file"])
    (out / f"{rows[1]['name']}.npz").write_bytes(b"cut short")  # a damaged file is made again, the others kept
    r = run_cli("poses", str(image_clips / "clips.csv"), "-o", str(out))
    assert r.returncode == 0 and f"{len(rows)} clips in {out}: 1 made (0 of a changed video), {len(rows) - 1} already there" in r.stdout

    # A clip re-encoded under the same name (here: another clip's bytes copied over it) is another video: made again.
    clips = tmp_path / "clips"
    shutil.copytree(image_clips, clips)
    shutil.copyfile(clips / rows[3]["file"], clips / rows[2]["file"])
    r = run_cli("poses", str(clips / "clips.csv"), "-o", str(out))
    assert r.returncode == 0 and f"{len(rows)} clips in {out}: 1 made (1 of a changed video), {len(rows) - 1} already there" in r.stdout
    assert PoseTrack.load(out / f"{rows[2]['name']}.npz").video_sha256 == video_digest(clips / rows[3]["file"])
    with pytest.raises(UserError, match="cannot read keypoint file"):
        PoseTrack.load(image_clips / "clips.csv")
    assert "no clips" in one_line_error(run_cli("poses", str(image_clips / "clips.csv"), "-o", str(out), "--split", "eval"))


def test_a_keypoint_ir_trained_on_other_features_is_refused_in_one_line(tmp_path, image_clips) -> None:
    import openvino as ov

    model = ov.Core().read_model(str(DEFAULT_MODEL_DIR / "model.xml"))
    spec = json.loads(model.get_rt_info(["homegym", "features"]).astype(str))
    model.set_rt_info(json.dumps(dict(spec, version="homegym-keypoint-features/0")), ["homegym", "features"])
    ov.save_model(model, str(tmp_path / "model.xml"))
    clip = image_clips / counted_rows(image_clips)[0]["file"]
    err = one_line_error(run_cli("count", str(clip), "--model", str(tmp_path)))
    assert "trained on features homegym-keypoint-features/0" in err and "retrain" in err


def test_the_default_model_runs_the_pose_stage_and_counts_a_rendered_clip(image_clips) -> None:
    from homegym.daemon.config.settings import Config, for_file
    from homegym.daemon.pipeline.pipeline import Pipeline

    row = next(r for r in counted_rows(image_clips) if r["exercise"] == "squat" and int(r["reps"]) > 0)
    pipe = Pipeline.open(for_file(Config(), image_clips / row["file"]))
    pipe.start()
    assert pipe.classifier.uses_pose and pipe.pose is not None, "a keypoint classifier turns the stage on, whatever pose.enabled says"
    assert pipe.ring is not None and pipe.ring.capacity and pipe.letterbox is not None
    s = pipe.run()
    assert s.by_exercise["squat"] == int(row["reps"]) and s.pose_found and s.pose_found > 0.8


def test_a_reload_from_the_image_classifier_to_the_keypoint_one_opens_the_pose_stage(image_clips, tmp_path) -> None:
    from homegym.daemon.config import settings as config_mod
    from homegym.daemon.service.service import Service

    first = next(r for r in counted_rows(image_clips) if r["exercise"] == "pushup")
    second = next(r for r in counted_rows(image_clips) if r["exercise"] == "squat" and int(r["reps"]) > 0)
    cfg = tmp_path / "config.yaml"

    def text(clip, model, frame_size: int = 512, realtime: bool = False) -> str:
        return (f"source:\n  uri: {image_clips / clip['file']}\n  realtime: {str(realtime).lower()}\nmodel:\n  path: {model}\n"
                f"  cache_dir: null\nmqtt:\n  enabled: false\nstate:\n  dir: {tmp_path / 'state'}\npose:\n  frame_size: {frame_size}\n")

    # The first clip at its own pace: the reload comes a moment after its first frame, whatever the machine's load (the
    # exercise fold's slow average of a long push-up stretch would lean the squat clip's first frames to push-ups).
    cfg.write_text(text(first, IMAGE_MODEL_DIR, realtime=True))
    ready = threading.Event()

    class Watched(Service):
        def on_ready(self) -> None:
            super().on_ready()
            ready.set()

    svc = Watched(config_mod.load(cfg), config_path=cfg)
    svc.start()
    assert svc.pipe is not None and svc.pipe.pose is None and not svc.pipe.classifier.uses_pose
    result: dict = {}
    runner = threading.Thread(target=lambda: result.setdefault("s", svc.run()))
    runner.start()
    assert ready.wait(60)
    copy = tmp_path / "keypoints"
    shutil.copytree(DEFAULT_MODEL_DIR, copy)
    cfg.write_text(text(second, copy, 448))  # another canvas too: the ring's picture follows pose.frame_size
    svc.request_reload()
    runner.join(120)
    assert svc.pipe.classifier.uses_pose and svc.pipe.pose is not None and svc.pipe.ring is not None
    assert svc.pipe.ring.shape == (448, 448, 3)
    assert result["s"].by_exercise["squat"] == int(second["reps"]), "the keypoint classifier counted the second clip"


# -- the train tier: training and converting a keypoint classifier -------------------------------------------


@pytest.fixture(scope="module")
def keypoint_run(training_clips, tmp_path_factory):
    """``homegym poses`` then a small ``homegym train --kind keypoints`` on rendered clips, folds and ensemble on."""
    pytest.importorskip("tensorflow", reason="training needs the train extra (pip install -e '.[train]')")
    work = tmp_path_factory.mktemp("keypoint_run")
    r = run_cli("poses", str(training_clips / "clips.csv"), "-o", str(work / "keys"), timeout=900)
    assert r.returncode == 0, r.stderr[-2000:]
    r = run_cli("train", str(training_clips / "clips.csv"), "--tracks", str(work / "keys"), "-o", str(work / "run"),
                "--folds", "3", "--epochs", "8", "--views", "1", "--ensemble", "2", "--hidden", "32", "16")
    assert r.returncode == 0, r.stderr[-2000:]
    return work


@needs_tf
def test_training_reports_out_of_fold_figures_by_source_and_convert_compiles_it(keypoint_run, training_clips, tmp_path) -> None:
    run = keypoint_run / "run"
    rep = json.loads((run / "report.json").read_text())
    assert rep["kind"] == "keypoints" and rep["labels"] == list(LABELS) and rep["features"]["version"] == kf.VERSION
    cv = rep["cross_validation"]
    folds = cv["fold_of_source"]
    assert set(folds.values()) == {0, 1, 2} and len(folds) == len({c["group"] for c in rep["data"]["clips"].values()})
    oof = rep["evaluation"]["out_of_fold"]
    assert oof["frames"] > 500 and oof["accuracy"] > 0.4, "a model that never saw the clip's source labels it"
    assert rep["evaluation"]["train"]["accuracy"] > oof["accuracy"]
    z = np.load(run / "oof.npz")
    assert {k.split("/")[0] for k in z.files if "/" in k} == set(rep["data"]["clips"]) and list(z["labels"]) == rep["labels"]
    r = run_cli("tune", str(training_clips / "clips.csv"), "--oof", str(run / "oof.npz"), "--top", "2")
    assert r.returncode == 0 and "best, for config.yaml" in r.stdout, r.stderr[-2000:]
    r = run_cli("tune", str(training_clips / "clips.csv"), "--oof", str(run / "oof.npz"), "--tracks", str(keypoint_run / "keys"),
                "--grid", "exercise", "--json")
    assert r.returncode == 0, r.stderr[-2000:]
    best = json.loads(r.stdout)
    assert set(best) == {"pushup", "squat"} and all(b["min_travel_deg"] in EXERCISE_GRID["min_travel_deg"] for b in best.values())
    assert "--tracks: no keypoints for" in one_line_error(run_cli("tune", str(training_clips / "clips.csv"), "--oof",
                                                                  str(run / "oof.npz"), "--tracks", str(tmp_path)))

    r = run_cli("convert", str(run / "model.keras"), "-o", str(tmp_path / "ir"), "--precision", "fp16")
    assert r.returncode == 0, r.stderr[-2000:]
    conv = json.loads((tmp_path / "ir" / "convert_report.json").read_text())
    assert conv["passed"] and conv["kind"] == "keypoints" and conv["parity"]["top1_agreement"] > 0.99
    assert "training clips" in conv["parity"]["on"], "checked on the training clips' own keypoints"
    clip = training_clips / counted_rows(training_clips)[0]["file"]
    r = run_cli("count", str(clip), "--model", str(tmp_path / "ir"), "--json")
    assert r.returncode == 0, r.stderr[-2000:]
    assert json.loads(r.stdout.splitlines()[-1])["type"] == "summary"
    assert "int8 would buy nothing" in one_line_error(run_cli("convert", str(run / "model.keras"), "-o", str(tmp_path / "q"),
                                                              "--precision", "int8"))


@needs_tf
def test_keypoint_training_refuses_bad_input_in_one_line(training_clips, tmp_path) -> None:
    man = str(training_clips / "clips.csv")
    assert "--tracks" in one_line_error(run_cli("train", man, "-o", str(tmp_path / "x")))
    assert "no keypoints for" in one_line_error(run_cli("train", man, "--tracks", str(tmp_path), "-o", str(tmp_path / "x")))
    assert "no such folder" in one_line_error(run_cli("train", man, "--tracks", str(tmp_path / "nope"), "-o", str(tmp_path / "x")))
    assert "--features must be one of" in one_line_error(run_cli("train", man, "--tracks", str(tmp_path), "--features",
                                                                 "homegym-keypoint-features/9", "-o", str(tmp_path / "x")))
    assert "--kind keypoints" in one_line_error(run_cli("train", "--kind", "image", man, "--tracks", str(tmp_path), "-o",
                                                        str(tmp_path / "x")))
    assert "manifests" in one_line_error(run_cli("train", str(training_clips), "--tracks", str(tmp_path), "-o", str(tmp_path / "x")))
    for args in (["--tracks", str(tmp_path)], ["--kind", "image"]):
        err = one_line_error(run_cli("train", man, "--exercises", "pushup,pushups", "-o", str(tmp_path / "x"), *args))
        assert "--exercises: pushups is not an exercise: choose from pushup, squat, lunge" in err


def test_training_refuses_keypoints_made_from_another_video(image_clips, tmp_path) -> None:
    """A clip re-encoded under the same name after its keypoints were made: training stops in one line instead of
    pairing the new clip's rep marks with the old video's keypoints."""
    from homegym.core import manifest
    from homegym.train.keypoints.data import load

    row = next(r for r in manifest.read(image_clips / "clips.csv") if r.exercise == "squat")
    n = 3
    track = PoseTrack(np.arange(n), np.arange(n) / 15.0, np.zeros((n, 33, 4), np.float32), np.zeros((n, 33, 3), np.float32),
                      np.zeros(n, np.float32), np.zeros(n, bool), np.full((n, 4), np.nan, np.float32), np.zeros(n, bool), 15.0, 320, 240)
    (tmp_path / "keys").mkdir()
    track.save(tmp_path / "keys" / f"{row.name}.npz", str(row.path), "mediapipe 0.10.14", "0" * 64)
    with pytest.raises(UserError, match="made from another video than .*: run homegym poses again"):
        load([row], [tmp_path / "keys"], None, kf.FeatureSpec())
