"""Which classifier an IR is, opened and compiled: the kind comes from the IR itself (``homegym/kind``).

A new kind of classifier is a module beside ``image`` and ``keypoints`` and one entry in
``open_model``; nothing above this package changes.
"""

from __future__ import annotations

from pathlib import Path

from homegym.core.errors import UserError
from homegym.core.model_info import KeypointModelInfo, read_model_ir

from ..config.settings import ModelConfig, SourceConfig
from ..frames.source import classify
from .base import Classifier
from .image import ImageClassifier
from .keypoints import KeypointClassifier

MODELS = Path(__file__).resolve().parents[1] / "models"
DEFAULT_MODEL_DIR = MODELS / "default"  # the keypoint classifier of the eight exercises (on the pose stage)
IMAGE_MODEL_DIR = MODELS / "image"  # the seed's MobileNetV2 image classifier (push-ups and squats), also shipped
SHIPPED = {"default": DEFAULT_MODEL_DIR, "image": IMAGE_MODEL_DIR}  # model.path's names for them


def resolve_model_path(path: str | None, precision: str | None) -> Path:
    """An .xml, or a folder with model.xml or a <precision>/model.xml; None: the shipped default model; a name of
    ``SHIPPED`` (where no such file or folder is beside): that shipped model."""
    if path is None:
        base = DEFAULT_MODEL_DIR
        if not base.exists():
            raise UserError("no model configured and no default model is shipped in this install: pass --model or set model.path")
    else:
        base = Path(path).expanduser()
        if path in SHIPPED and not base.exists():
            base = SHIPPED[path]
    if base.is_dir():
        for cand in ([base / precision / "model.xml"] if precision else []) + [base / "model.xml"]:
            if cand.exists():
                return cand
        raise UserError(f"no model.xml{' for ' + precision if precision else ''} in {base}")
    return base


def hint_for(source: SourceConfig, live: bool = False) -> str:
    """OpenVINO's performance hint for a source: a file read as fast as it decodes wants frames per
    second (THROUGHPUT: a stream per core, no barrier for the decoder to stall); a camera wants
    each frame soon (LATENCY), and so does a file counted as the daemon counts live (``live``)."""
    return "LATENCY" if live or classify(source.uri).live or source.realtime else "THROUGHPUT"


def open_model(cfg: ModelConfig, override: Path | None = None, hint: str = "LATENCY") -> Classifier:
    """The configured model (``override``: the command line's --model), compiled and ready: an image classifier,
    or a keypoint classifier on the pose stage, as the IR says."""
    path = resolve_model_path(str(override) if override else cfg.path, cfg.precision)
    model, info = read_model_ir(path)
    if cfg.precision and cfg.precision != info.precision:
        raise UserError(f"{path} is {info.precision}, but the config asks for {cfg.precision}")
    if isinstance(info, KeypointModelInfo):
        return KeypointClassifier(model, info, path, cfg.device, cfg.cache_path(), cfg.cpu_precision)
    return ImageClassifier(model, info, path, cfg.device, cfg.cache_path(), cfg.infer_requests, hint, cfg.cpu_precision)
