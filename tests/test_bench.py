"""``homegym bench --short`` runs every figure in a few seconds each, so the bench cannot rot."""

from __future__ import annotations

import json
import subprocess
from importlib.util import find_spec

import pytest
from support import counted_rows, run_cli

from homegym.daemon.classify.factory import IMAGE_MODEL_DIR


@pytest.mark.slow
def test_bench_short_measures_every_figure(image_ir, image_clips, tmp_path) -> None:
    """Every figure is there and each ratio is the ratio of the figures it names; how fast is the bench's to say, not a test's."""
    clip = next(c for c in counted_rows(image_clips) if int(c["reps"]) >= 2)
    out = tmp_path / "bench.json"
    r = run_cli("bench", "--short", "--models", str(IMAGE_MODEL_DIR), "--clip",
                str(image_clips / clip["file"]), "--json", str(out), "--baseline", "HEAD")
    assert r.returncode == 0, r.stderr[-3000:]
    report = json.loads(out.read_text())
    figs = {f["key"]: f for f in report["figures"]}
    assert len(figs) == len(report["figures"]) and all(figs), "every figure has a key of its own"
    assert {k.split("/")[0] for k in figs} == {"model", "pipeline", "seed", "live", "latency", "pose", "keypoints"}
    model = {k: f for k, f in figs.items() if k.startswith("model/shipped/") or k.startswith("model/given-")}
    assert {k.split("/")[-1] for k in model} == {"latency", "throughput"} and all(f["value"] > 0 for f in model.values())
    assert {"batch1", "batch4"} <= {k.split("/")[3] for k in model}
    assert all(f["p95_ms"] >= f["p50_ms"] > 0 for f in model.values())
    assert figs["model/shipped/CPU/batch1/latency"]["name"].startswith("fp16 IR, runs f32 on CPU"), "the daemon's way: f32 on the CPU"
    assert len([k for k in model if k.startswith("model/given-image/")]) == 4, "the IR given, at its own size"
    if find_spec("nncf"):  # the train extra
        assert "model/int8/CPU/batch1/latency" in figs
        assert figs["model/int8/reps"]["note"] == f"the shipped IR: {clip['reps']}", "the shipped IR counts the clip right in f32"
    pipeline, raw = figs["pipeline/count"], figs["pipeline/ir-alone"]
    assert pipeline["ratio"] == pytest.approx(pipeline["value"] / raw["value"])
    if find_spec("tensorflow"):
        keras, seed = figs["seed/keras-per-frame"], figs["seed/count-against-per-frame"]
        assert seed["ratio"] == pytest.approx(pipeline["value"] / keras["value"])
    else:
        assert figs["seed/keras-per-frame"]["value"] is None
    for rate in ("15fps", "every-frame"):  # the configured rate and every frame
        live = figs[f"live/cpu/image/{rate}"]
        assert live["value"] > 0 and live["ratio"] == pytest.approx(live["value"] / 25)
    rep = figs["latency/puback"]
    assert rep["value"] is not None and rep["p95_ms"] >= rep["p50_ms"] > 0, rep
    assert "| model |" in r.stdout and report["machine"]["cores"] >= 1
    for kind in ("detector", "landmarks_full"):
        for threads in ("1", "all"):
            f = figs[f"pose/{kind}/CPU/f32/{threads}"]
            assert f["value"] > 0 and f["p95_ms"] >= f["p50_ms"] > 0
    stage, reference = [figs["pose/stage/1"], figs["pose/stage/all"]], figs["pose/mediapipe"]
    assert all(f["value"] > 0 for f in stage)
    if reference["value"] is None:  # no mediapipe in this venv: said, not guessed
        assert "skipped" in reference["note"] and all(f["ratio"] is None for f in stage)
    else:
        assert all(f["ratio"] == pytest.approx(f["value"] / reference["value"] / 1.5) for f in stage)
    rest = figs["pose/rest"]
    assert 0 < rest["value"] < 100 and rest["ratio"] == pytest.approx(rest["value"] / 20)
    rest_ms = figs["pose/rest-ms"]
    assert rest_ms["value"] > 0 and rest_ms["ratio"] == pytest.approx(rest_ms["value"] / 1.2) and "full, f32" in rest_ms["name"]
    parts = figs["pose/pipeline-parts"]
    assert "decoding" in parts["note"] and "models" in parts["note"] and "the rest" in parts["note"]
    for kind in ("detector", "landmarks_lite", "landmarks_full"):  # each landmark model shipped
        assert figs[f"pose/{kind}/CPU/f32/1"]["value"] > 0
    lighter = {k.removeprefix("live/lighter/"): f for k, f in figs.items() if k.startswith("live/lighter/")}
    assert set(lighter) == {"baseline/moving", "default/moving", "default/still", "baseline/nobody", "default/nobody",
                            "lite/moving", "lite/still"}
    assert all(f["value"] > 0 for f in lighter.values())
    moving = lighter["default/moving"]
    assert moving["ratio"] == pytest.approx(lighter["baseline/moving"]["value"] / moving["value"])
    assert lighter["default/still"]["ratio"] == pytest.approx(lighter["default/still"]["value"] / moving["value"])
    assert lighter["default/nobody"]["ratio"] == pytest.approx(lighter["default/nobody"]["value"] / lighter["baseline/nobody"]["value"])
    assert "bf16" in moving["note"] and "pose.model" in moving["name"]
    assert lighter["lite/moving"]["ratio"] == pytest.approx(lighter["baseline/moving"]["value"] / lighter["lite/moving"]["value"])
    page = {w: figs[f"live/page/{w}"] for w in ("off", "closed", "open")}
    assert page["off"]["value"] > 0 and page["off"]["ratio"] is None
    for w in ("closed", "open"):
        assert page[w]["ratio"] == pytest.approx(page[w]["value"] / page["off"]["value"])
    assert "KiB/s" in page["open"]["note"] and not page["open"]["note"].startswith("the page read 0 KiB/s")
    keypoints = {k: f for k, f in figs.items() if k.startswith("keypoints/")}
    assert all(f["value"] > 0 for f in keypoints.values()) and len(keypoints) == 7
    kp, image = figs["keypoints/count-keypoints"], figs["keypoints/count-image"]
    assert kp["ratio"] == pytest.approx(kp["value"] / image["value"])
    both = figs["keypoints/features+classifier"]
    assert both["value"] == pytest.approx(figs["keypoints/features"]["value"] + figs["keypoints/classifier"]["value"], rel=1e-6)
    assert both["ratio"] == pytest.approx(both["value"] / 1.0)
    live, base = figs["keypoints/live-model"], figs["keypoints/live-baseline"]
    assert live["ratio"] == pytest.approx(live["value"] / base["value"]) and "git HEAD" in live["note"]


def test_the_baseline_ir_comes_from_git_and_a_bad_revision_is_one_line(tmp_path) -> None:
    from homegym.core.errors import UserError
    from homegym.daemon.classify.factory import DEFAULT_MODEL_DIR
    from homegym.measure.bench.keypoints import ir_from_git

    xml = ir_from_git("HEAD", tmp_path)
    assert xml.read_bytes() == subprocess.run(["git", "-C", str(DEFAULT_MODEL_DIR), "show", "HEAD:./model.xml"],
                                              capture_output=True, check=True).stdout
    with pytest.raises(UserError, match=r"^--baseline no-such-rev: git has no daemon/models/default/model.xml there"):
        ir_from_git("no-such-rev", tmp_path)
