"""Loading a trained Keras model with its training report (labels, size, provenance)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from homegym.core.errors import UserError
from homegym.core.labels import order_labels
from homegym.train import keras_import


def load(path: Path, report_path: Path | None = None, kind: str = "image"):
    """Returns (keras model, train report dict). The report lies beside the model unless given; ``kind``: the
    image classifier, or the keypoint classifier (``train --kind keypoints``)."""
    path = Path(path)
    if not path.exists():
        raise UserError(f"model not found: {path}")
    report_path = Path(report_path) if report_path else path.parent / "report.json"
    if not report_path.exists():
        raise UserError(f"training report not found: {report_path} (it holds the labels; pass --report)")
    try:
        report = json.loads(report_path.read_text())
        labels = tuple(report["labels"])
    except (ValueError, KeyError) as e:
        raise UserError(f"{report_path}: not a homegym training report ({e})") from None
    order_labels(labels)
    if report.get("kind", "image") != kind:
        raise UserError(f"{report_path} is the report of a {report.get('kind', 'image')} classifier, not of a {kind} one")
    if not zipfile.is_zipfile(path):  # Keras itself says "File not found" for a file that is there
        raise UserError(f"cannot load Keras model {path}: not a .keras file (a zip archive)")
    keras = keras_import.keras()

    try:
        model = keras.models.load_model(path, compile=False)
    except Exception as e:  # Keras raises many types for a bad file (ValueError, OSError, zipfile errors)
        raise UserError(f"cannot load Keras model {path}: {str(e).strip().splitlines()[0][:200] or type(e).__name__}") from None
    shape = model.output_shape
    if len(shape) != 2 or shape[-1] != len(labels):
        raise UserError(f"{path}: the model outputs {shape[-1]} classes but its report names {len(labels)} labels {list(labels)}")
    if kind == "keypoints":
        if len(model.input_shape) != 2:
            raise UserError(f"{path}: expected a keypoint classifier's (N, features) input, got {model.input_shape}")
    elif len(model.input_shape) != 4 or model.input_shape[1] != model.input_shape[2] or model.input_shape[3] != 3:
        raise UserError(f"{path}: expected a square RGB image input, got {model.input_shape}")
    return model, report
