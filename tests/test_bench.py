"""``homegym bench --short`` runs every figure in a few seconds each, so the bench cannot rot."""

from __future__ import annotations

import json
import re

import pytest
from support import learned_clips, run_cli

from homegym.daemon.inference import DEFAULT_MODEL_DIR


@pytest.mark.slow
def test_bench_short_measures_every_figure(small_model, small_ir, training_clips, tmp_path) -> None:
    clip = next(c for c in learned_clips(small_model, training_clips) if int(c["reps"]) >= 2)
    out = tmp_path / "bench.json"
    # --models: another IR with another working size (the shipped model's) takes the frames at its own size.
    r = run_cli("bench", "--short", "--model", str(small_ir), "--models", str(DEFAULT_MODEL_DIR), "--clip",
                str(training_clips / clip["file"]), "--json", str(out))
    assert r.returncode == 0, r.stderr[-3000:]
    report = json.loads(out.read_text())
    figs = {(f["group"], f["name"]): f for f in report["figures"]}
    groups = {g for g, _ in figs}
    assert groups == {"model", "pipeline", "seed", "live", "latency"}, groups
    model = [f for (g, _), f in figs.items() if g == "model" and f["unit"] == "fps"]
    assert {f["name"].split()[-1] for f in model} == {"LATENCY", "THROUGHPUT"} and all(f["value"] > 0 for f in model)
    assert {"batch 1", "batch 4"} <= {re.search(r"batch \d+", f["name"])[0] for f in model}
    assert all(f["p95_ms"] >= f["p50_ms"] > 0 for f in model)
    assert any(f["name"].startswith("fp32 IR, runs f32 on CPU") for f in model), "the daemon's way: f32 on the CPU"
    assert any(f["name"].startswith("int8 of it, runs f32 on CPU") for f in model), "an INT8 variant (NNCF is installed here)"
    assert len([f for f in model if f["name"].startswith("default: fp16 IR, 128x128 in")]) == 4, "the IR given, at its own size"
    agree = next(f for (g, n), f in figs.items() if g == "model" and "top-1 agreement" in n)
    assert 0 <= agree["value"] <= 100
    reps = next(f for (g, n), f in figs.items() if g == "model" and n.startswith("int8: reps counted"))
    assert reps["value"] >= 0 and f"the shipped IR: {clip['reps']})" in reps["name"], "the learned clip counts right in f32"
    pipeline = next(f for (g, n), f in figs.items() if g == "pipeline" and n.startswith("homegym count"))
    raw = next(f for (g, n), f in figs.items() if g == "pipeline" and n.startswith("IR alone"))
    assert pipeline["ratio"] == pytest.approx(pipeline["value"] / raw["value"])
    seed = next(f for (g, n), f in figs.items() if g == "seed" and "per frame" in n and f["ratio"] is not None)
    assert seed["ratio"] > 1, "the pipeline beats Keras called frame by frame"
    live = next(f for (g, n), f in figs.items() if g == "live" and "%" in f["unit"])
    assert 0 < live["value"] < 200
    rep = next(f for (g, n), f in figs.items() if g == "latency" and "PUBACK" in n)
    assert rep["value"] is not None and rep["p95_ms"] >= rep["p50_ms"] > 0, rep
    assert "| model |" in r.stdout and report["machine"]["cores"] >= 1
