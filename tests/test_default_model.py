"""The shipped default model: in the package, self-describing, used when nothing else is configured."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import ROOT, SHARED, run_cli
from homegym.daemon.inference import DEFAULT_MODEL_DIR

LABELS = ["neither", "pushup_up", "pushup_down", "squat_up", "squat_down"]


def test_shipped_model_describes_itself_without_tensorflow() -> None:
    code = f"""
import sys
sys.modules["tensorflow"] = None
sys.modules["keras"] = None
from homegym.daemon.inference import resolve_model_path
from homegym.model_info import read_ir
model, info = read_ir(resolve_model_path(None, None))
print(",".join(info.labels), info.precision, info.provenance["split"]["method"])
"""
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]
    labels, precision, _ = r.stdout.split(maxsplit=2)
    assert labels.split(",") == LABELS and precision in ("fp32", "fp16", "int8")
    for report in ("train_report.json", "convert_report.json", "eval_report.json"):
        assert json.loads((DEFAULT_MODEL_DIR / report).read_text()), report


@pytest.mark.slow
def test_count_with_no_options_uses_the_shipped_model(rendered) -> None:
    clip = next(rendered.glob("pushup_*.mp4"))
    r = run_cli("count", str(clip), "--json")
    assert r.returncode == 0, r.stderr[-2000:]
    assert "daemon/models/default/model.xml" in r.stderr
    summary = json.loads(r.stdout.splitlines()[-1])
    assert summary["type"] == "summary" and set(summary["by_exercise"]) == {"pushup", "squat"}


@pytest.mark.slow
@pytest.mark.realdata
def test_eval_figures_in_the_shipped_report_are_reproduced() -> None:
    """`homegym eval` on the eval clips gives exactly the figures shipped beside the model (and in the README)."""
    if not (SHARED / "clips.csv").exists():
        pytest.skip("../shared/data is not here")
    shipped = json.loads((DEFAULT_MODEL_DIR / "eval_report.json").read_text())
    r = run_cli("eval", str(SHARED / "clips.csv"), "--split", "eval", "--json", "--config", str(ROOT / "config.yaml"))
    assert r.returncode == 0, r.stderr[-2000:]
    got = json.loads(r.stdout)
    assert [(c["clip"], c["counted"]) for c in got["clips"]] == [(c["clip"], c["counted"]) for c in shipped["clips"]]
    for k in ("mae", "obo", "exact", "false_reps_per_other_clip", "frame_acc"):
        assert got[k] == pytest.approx(shipped[k], abs=1e-3), k


@pytest.mark.parametrize("cpu_precision", ["f32", "auto"])
def test_cpu_precision_is_f32_unless_the_config_leaves_it_to_openvino(cpu_precision) -> None:
    """f32 (the default, what the eval figures were measured in) on every CPU; auto: OpenVINO's own choice
    (bf16 on a CPU with AVX-512 BF16), both for the batch and the single-frame requests."""
    import openvino as ov

    from homegym.daemon.config import ModelConfig
    from homegym.daemon.inference import open_model

    inf = open_model(ModelConfig(cache_dir=None, cpu_precision=cpu_precision))
    want = "f32" if cpu_precision == "f32" else ov.Core().get_property("CPU", "INFERENCE_PRECISION_HINT").to_string()
    assert inf.compiled.get_property("INFERENCE_PRECISION_HINT").to_string() == want
    assert inf._single_queue is not None
    assert inf.feature_dim == 1280, "the pooled features are the IR's second output"
