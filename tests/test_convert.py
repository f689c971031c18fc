"""``homegym convert``: real OpenVINO IRs from a trained model, parity on real frames, metadata, errors."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from support import one_line_error, run_cli


def _convert(small_model, tmp_path_factory, precision: str) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp(f"ir_{precision}")
    r = run_cli("convert", str(small_model[0] / "model.keras"), "-o", str(out), "--precision", precision,
                "--cache-dir", str(out / "cache"))
    assert r.returncode == 0, r.stderr[-2500:]
    assert "parity vs Keras" in r.stdout
    return out, json.loads((out / "convert_report.json").read_text())


@pytest.fixture(scope="module")
def fp32_ir(small_ir):
    return small_ir, json.loads((small_ir / "convert_report.json").read_text())


@pytest.mark.slow
def test_fp32_ir_matches_keras_on_real_frames(fp32_ir) -> None:
    out, rep = fp32_ir
    p = rep["parity"]
    assert p["at_model_size"] and p["frames"] >= 100
    assert p["max_abs_diff"] <= 1e-3
    assert p["top1_agreement"] == 1.0
    assert (out / "model.xml").exists() and (out / "model.bin").exists() and (out / "train_report.json").exists()
    assert list((out / "cache").iterdir()), "the compile check fills the model cache"
    trained_on = json.loads((out / "train_report.json").read_text())["split"]["frames"]["test"]  # every 2nd frame
    assert rep["held_out_accuracy"]["frames"] >= 1.9 * trained_on, "held-out accuracy is measured on every frame"


@pytest.mark.slow
def test_fp16_ir_agrees_with_keras(small_model, tmp_path_factory) -> None:
    _, rep = _convert(small_model, tmp_path_factory, "fp16")
    assert rep["parity"]["top1_agreement_decided"] >= 0.99


@pytest.mark.slow
def test_an_ir_converts_to_int8_without_its_keras_model_or_tensorflow(small_ir, tmp_path) -> None:
    """The shipped model's case: only the IR and its training report are at hand. INT8 is tested from an IR only: NNCF's
    quantization is the same from a Keras source (whose conversion the FP32 and FP16 tests hold to Keras), and each
    INT8 conversion costs minutes of CI."""
    src = tmp_path / "fp32"
    src.mkdir()
    for f in ("model.xml", "model.bin", "train_report.json"):
        shutil.copy(small_ir / f, src / f)
    out = tmp_path / "int8"
    code = ("import sys; sys.modules['tensorflow'] = None; sys.modules['keras'] = None; from homegym.cli import main; "
            f"sys.exit(main(['convert', {str(src)!r}, '-o', {str(out)!r}, '--precision', 'int8', '--cache-dir', 'none']))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2500:]
    assert "parity vs the source IR" in r.stdout
    rep = json.loads((out / "convert_report.json").read_text())
    assert rep["reference"] == "ir" and rep["precision"] == "int8"
    p = rep["parity"]
    assert p["top1_agreement_decided"] >= 0.99 and p["near_ties"] <= 0.05 * p["frames"]
    acc = rep["held_out_accuracy"]
    assert acc["source"] - acc["int8"] <= 0.01
    assert (out / "train_report.json").exists()

    from homegym.core.model_info import read_ir
    model, info = read_ir(out / "model.xml")
    assert info.precision == "int8" and info.labels == read_ir(src / "model.xml")[1].labels
    assert any(op.get_type_name() == "FakeQuantize" for op in model.get_ordered_ops())
    # Precision lost on the way does not come back, and the source is never overwritten.
    assert "convert the Keras model" in one_line_error(run_cli("convert", str(out), "-o", str(tmp_path / "back"), "--precision", "fp32"))
    assert "overwrite the source" in one_line_error(run_cli("convert", str(src), "-o", str(src), "--precision", "int8"))


def test_low_precision_is_held_to_the_frames_fp32_decides() -> None:
    """A flip where FP32's top two are within NEAR_TIE is reported, not held to the bound; any other counts."""
    from homegym.convert.run import LOW_PRECISION_AGREEMENT, NEAR_TIE, bound_failures, parity_figures

    ref = np.tile([0.9, 0.05, 0.05], (200, 1))
    ref[:3] = [0.5, 0.5 - NEAR_TIE / 2, NEAR_TIE / 2]  # three near ties
    probs = ref.copy()
    probs[:3] = [0.45, 0.55, 0.0]  # all three flip
    p = dict(parity_figures(ref, probs), at_model_size=True)
    assert p["near_ties"] == 3 and p["near_ties_flipped"] == 3
    assert p["top1_agreement"] == pytest.approx(197 / 200) and p["top1_agreement"] < LOW_PRECISION_AGREEMENT
    assert p["top1_agreement_decided"] == 1.0
    acc = {"fp32": 0.5, "int8": 0.5}
    assert bound_failures("int8", p, acc, "fp32") == []
    assert bound_failures("fp32", p, {"fp32": 0.5}, "fp32"), "FP32 is held to every frame"
    probs[3:6] = [0.05, 0.9, 0.05]  # three decided frames flip: 197 of 197 -> 194 of 197
    p = dict(parity_figures(ref, probs), at_model_size=True)
    assert p["top1_agreement_decided"] == pytest.approx(194 / 197)
    assert "INT8 top-1 agreement 98.48% < 99% on the 197 frames" in bound_failures("int8", p, acc, "fp32")[0]
    assert "held-out accuracy" in bound_failures("int8", p, {"fp32": 0.5, "int8": 0.48}, "fp32")[-1]


def test_check_frames_keep_the_models_label_order_when_a_side_lacks_a_label(small_model, training_clips) -> None:
    """Each side of the split is decoded on its own; a side without push-ups must not renumber the labels."""
    from homegym.convert import frames as F
    from homegym.core.framing import Framing

    rep = json.loads((small_model[0] / "report.json").read_text())
    clips = rep["data"]["clips"]
    for name, c in clips.items():  # held out: squats and the other movements only
        if name.startswith("pushup"):
            c["split"] = "train"
    sides = F.load(rep, (48, 48), [training_clips], 3, None, Framing())
    labels = rep["labels"]
    assert set(np.unique(sides["test"].labels)) == {labels.index(x) for x in ("neither", "squat_up", "squat_down")}
    assert set(np.unique(sides["train"].labels)) == set(range(len(labels)))


@pytest.mark.slow
def test_ir_is_self_describing_without_tensorflow(fp32_ir) -> None:
    """Labels and sizes come from the IR alone, in a process where importing TensorFlow fails."""
    out, rep = fp32_ir
    code = f"""
import sys
sys.modules["tensorflow"] = None  # any 'import tensorflow' now raises ImportError
sys.modules["keras"] = None
import numpy as np, openvino as ov
from homegym.core.model_info import read_ir
model, info = read_ir({str(out / 'model.xml')!r})
compiled = ov.Core().compile_model(model, "CPU")
w, h = info.working_size
probs = compiled(np.zeros((info.batch, h, w, 3), np.uint8))[0]
assert probs.shape == (info.batch, len(info.labels)) and np.allclose(probs.sum(1), 1, atol=1e-4)
print(",".join(info.labels), info.input_size, w, h, info.batch, info.precision, info.provenance["split"]["seed"])
"""
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.split() == [",".join(rep["labels"]), "96", "96", "96", "4", "fp32", "1"]


def test_bad_inputs_are_one_line_errors(small_model, tmp_path) -> None:
    model = small_model[0] / "model.keras"
    out = str(tmp_path / "out")
    assert "model not found" in one_line_error(run_cli("convert", str(tmp_path / "none.keras"), "-o", out))
    bad = tmp_path / "corrupt"
    bad.mkdir()
    (bad / "model.keras").write_bytes(np.random.default_rng(0).bytes(5000))
    shutil.copy(small_model[0] / "report.json", bad / "report.json")
    assert "not a .keras file" in one_line_error(run_cli("convert", str(bad / "model.keras"), "-o", out))
    with zipfile.ZipFile(bad / "model.keras", "w") as z:  # a zip, but not a Keras model
        z.writestr("config.json", "{")
    assert "cannot load Keras model" in one_line_error(run_cli("convert", str(bad / "model.keras"), "-o", out))
    mismatch = tmp_path / "mismatch"
    mismatch.mkdir()
    shutil.copy(model, mismatch / "model.keras")
    rep = json.loads((small_model[0] / "report.json").read_text())
    rep["labels"] = ["neither", "up", "down"]
    (mismatch / "report.json").write_text(json.dumps(rep))
    assert "outputs 5 classes" in one_line_error(run_cli("convert", str(mismatch / "model.keras"), "-o", out))
    assert "unknown device 'TPU'" in one_line_error(run_cli("convert", str(model), "-o", out, "--device", "TPU"))
    import openvino as ov

    present = ov.Core().available_devices
    if "NPU" not in present:
        err = one_line_error(run_cli("convert", str(model), "-o", out, "--device", "NPU"))
        assert "NPU is not available" in err and "present: CPU" in err
    if not {"NPU", "GPU"} & {d.split(".")[0] for d in present}:
        assert "none of the devices" in one_line_error(run_cli("convert", str(model), "-o", out, "--device", "AUTO:NPU,GPU"))


def test_daemon_side_reader_rejects_foreign_and_broken_irs(tmp_path) -> None:
    import openvino as ov
    from openvino import opset13 as ops

    from homegym.core.errors import UserError
    from homegym.core.model_info import read_ir

    x = ops.parameter([1, 4], np.float32)
    plain = ov.Model([ops.softmax(x, 1)], [x], "plain")
    ov.save_model(plain, str(tmp_path / "plain.xml"))
    with pytest.raises(UserError, match="not a HomeGym IR"):
        read_ir(tmp_path / "plain.xml")
    (tmp_path / "broken.xml").write_text("<net>")
    (tmp_path / "broken.bin").write_bytes(b"")
    with pytest.raises(UserError, match="cannot read model"):
        read_ir(tmp_path / "broken.xml")
    with pytest.raises(UserError, match="model not found"):
        read_ir(tmp_path / "nothing.xml")
