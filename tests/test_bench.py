"""``homegym bench --short`` runs every figure in a few seconds each, so the bench cannot rot."""

from __future__ import annotations

import json
import re
from importlib.util import find_spec

import pytest
from support import counted_rows, run_cli

from homegym.daemon.inference import IMAGE_MODEL_DIR


@pytest.mark.slow
def test_bench_short_measures_every_figure(shipped_ir, shipped_clips, tmp_path) -> None:
    """Every figure is there and each ratio is the ratio of the figures it names; how fast is the bench's to say, not a test's."""
    clip = next(c for c in counted_rows(shipped_clips) if int(c["reps"]) >= 2)
    out = tmp_path / "bench.json"
    r = run_cli("bench", "--short", "--models", str(IMAGE_MODEL_DIR), "--clip",
                str(shipped_clips / clip["file"]), "--json", str(out))
    assert r.returncode == 0, r.stderr[-3000:]
    report = json.loads(out.read_text())
    figs = {(f["group"], f["name"]): f for f in report["figures"]}
    groups = {g for g, _ in figs}
    assert groups == {"model", "pipeline", "seed", "live", "latency", "pose", "keypoints"}, groups
    model = [f for (g, _), f in figs.items() if g == "model" and f["unit"] == "fps"]
    assert {f["name"].split()[-1] for f in model} == {"LATENCY", "THROUGHPUT"} and all(f["value"] > 0 for f in model)
    assert {"batch 1", "batch 4"} <= {re.search(r"batch \d+", f["name"])[0] for f in model}
    assert all(f["p95_ms"] >= f["p50_ms"] > 0 for f in model)
    assert any(f["name"].startswith("fp16 IR, runs f32 on CPU") for f in model), "the daemon's way: f32 on the CPU"
    assert len([f for f in model if f["name"].startswith("image: fp16 IR, 128x128 in")]) == 4, "the IR given, at its own size"
    if find_spec("nncf"):  # the train extra
        assert any(f["name"].startswith("int8 of it, runs f32 on CPU") for f in model)
        reps = next(f for (g, n), f in figs.items() if g == "model" and n.startswith("int8: reps counted"))
        assert f"the shipped IR: {clip['reps']})" in reps["name"], "the shipped IR counts the clip right in f32"
    pipeline = next(f for (g, n), f in figs.items() if g == "pipeline" and n.startswith("homegym count"))
    raw = next(f for (g, n), f in figs.items() if g == "pipeline" and n.startswith("IR alone"))
    assert pipeline["ratio"] == pytest.approx(pipeline["value"] / raw["value"])
    if find_spec("tensorflow"):
        keras = next(f for (g, n), f in figs.items() if g == "seed" and n.startswith("Keras model.predict per frame"))
        seed = next(f for (g, n), f in figs.items() if g == "seed" and "against Keras per frame" in n)
        assert seed["ratio"] == pytest.approx(pipeline["value"] / keras["value"])
    else:
        assert figs[("seed", "Keras per frame")]["value"] is None
    live = next(f for (g, n), f in figs.items() if g == "live" and "%" in f["unit"])
    assert live["value"] > 0 and live["ratio"] == pytest.approx(live["value"] / 25)
    rep = next(f for (g, n), f in figs.items() if g == "latency" and "PUBACK" in n)
    assert rep["value"] is not None and rep["p95_ms"] >= rep["p50_ms"] > 0, rep
    assert "| model |" in r.stdout and report["machine"]["cores"] >= 1
    pose = {n: f for (g, n), f in figs.items() if g == "pose"}
    for kind in ("detector", "landmarks"):
        for threads in ("1 thread", "every core"):
            f = next(f for n, f in pose.items() if n.startswith(f"{kind} alone, runs f32 on CPU, {threads}"))
            assert f["value"] > 0 and f["p95_ms"] >= f["p50_ms"] > 0
    stage = [f for n, f in pose.items() if n.startswith("pose stage on")]
    reference = next(f for n, f in pose.items() if n.startswith("MediaPipe's own"))
    assert len(stage) == 2 and all(f["value"] > 0 for f in stage)
    if reference["value"] is None:  # no mediapipe in this venv: said, not guessed
        assert "skipped" in reference["note"] and all(f["ratio"] is None for f in stage)
    else:
        assert all(f["ratio"] == pytest.approx(f["value"] / reference["value"] / 1.5) for f in stage)
    rest = next(f for n, f in pose.items() if n.startswith("the pipeline's own work"))
    assert 0 < rest["value"] < 100 and rest["ratio"] == pytest.approx(rest["value"] / 20)
    parts = next(f for n, f in pose.items() if n.startswith("offline pipeline with the pose stage"))
    assert "decoding" in parts["note"] and "models" in parts["note"] and "the rest" in parts["note"]
    assert any(g == "live" and "pose stage and classifier" in n and f["value"] > 0 for (g, n), f in figs.items())
    assert any(g == "live" and "nobody in view" in n and f["value"] > 0 for (g, n), f in figs.items())
    page = {w: next(f for (g, n), f in figs.items() if g == "live" and f"the live page {w}" in n)
            for w in ("off", "on, nobody", "on, a page")}
    assert page["off"]["value"] > 0 and page["off"]["ratio"] is None
    for w in ("on, nobody", "on, a page"):
        assert page[w]["ratio"] == pytest.approx(page[w]["value"] / page["off"]["value"])
    assert "KiB/s" in page["on, a page"]["note"] and not page["on, a page"]["note"].startswith("the page read 0 KiB/s")
    keypoints = {n: f for (g, n), f in figs.items() if g == "keypoints"}
    assert all(f["value"] > 0 for f in keypoints.values()) and len(keypoints) == 4
    kp = next(f for n, f in keypoints.items() if n.startswith("homegym count with the keypoint classifier"))
    image = next(f for n, f in keypoints.items() if n.startswith("homegym count with the image classifier"))
    assert kp["ratio"] == pytest.approx(kp["value"] / image["value"])
