"""The IR's own contract (DESIGN.md): what convert writes into the model's runtime info and the
daemon reads back with OpenVINO alone — ordered labels, sizes, batch, precision, provenance."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from .errors import UserError, openvino_reason
from .framing import Framing
from .keypoint_features import VERSIONS as FEATURES_VERSIONS
from .keypoint_features import FeatureSpec
from .labels import order_labels

RT = "homegym"  # the rt_info section
INPUT_LAYOUT = "uint8 BGR NHWC at the working size"
KEYPOINT_INPUT = "float32 N x features: core.keypoint_features of the pose stage's landmarks"
IMAGE, KEYPOINTS = "image", "keypoints"  # the model kinds: an image classifier, or a keypoint classifier on the pose stage


@dataclass(frozen=True)
class ModelInfo:
    labels: tuple[str, ...]
    input_size: int  # the network's square input, after the baked-in resize
    working_size: tuple[int, int]  # (w, h) of the frames the IR takes
    batch: int
    precision: str  # fp32 | fp16 | int8
    provenance: dict = field(default_factory=dict)  # training data, split, accuracy (from the train report)
    framing: Framing = field(default_factory=Framing)  # how a frame becomes the input: whole, or the motion crop

    def write(self, model) -> None:
        """Store in an ``openvino.Model``'s runtime info (saved with the IR)."""
        values = {
            "labels": json.dumps(list(self.labels)),
            "input_size": str(self.input_size),
            "working_size": f"{self.working_size[0]}x{self.working_size[1]}",
            "batch": str(self.batch),
            "precision": self.precision,
            "input": INPUT_LAYOUT,
            "provenance": json.dumps(self.provenance, sort_keys=True),
            "framing": json.dumps(self.framing.to_dict(), sort_keys=True),
            "kind": IMAGE,
        }
        _write(model, values)

    @classmethod
    def read(cls, model, where: str = "model") -> ModelInfo:
        get = _getter(model, where)
        try:
            labels = tuple(json.loads(get("labels")))
            order_labels(labels)  # validates the vocabulary
            w, h = (int(v) for v in get("working_size").split("x"))
            return cls(labels, int(get("input_size")), (w, h), int(get("batch")), get("precision"), json.loads(get("provenance")),
                       Framing.from_dict(json.loads(get("framing", "{}"))))  # IRs from before framing: the whole frame
        except (ValueError, TypeError) as e:
            raise UserError(f"{where}: malformed HomeGym runtime info: {e}") from None


def _write(model, values: dict[str, str]) -> None:
    for k, v in values.items():
        model.set_rt_info(v, [RT, k])


def _getter(model, where: str):
    def get(key: str, default: str | None = None) -> str:
        try:
            return str(model.get_rt_info([RT, key]).astype(str))
        except RuntimeError:
            if default is not None:
                return default
            raise UserError(f"{where} is not a HomeGym IR: runtime info '{RT}/{key}' is missing "
                            "(convert it with 'homegym convert')") from None

    return get


def kind_of(model) -> str:
    """The IR's model kind; IRs from before the keypoint classifier are image classifiers."""
    return _getter(model, "model")("kind", IMAGE)


@dataclass(frozen=True)
class KeypointModelInfo:
    """A keypoint classifier's contract: its labels, and the features it was trained on (their version and
    window), which the daemon computes from the pose stage's landmarks before each frame goes in."""

    labels: tuple[str, ...]
    features: FeatureSpec
    width: int  # features per frame
    precision: str  # fp32 | fp16
    provenance: dict = field(default_factory=dict)
    kind: str = KEYPOINTS
    batch: int = 1

    def write(self, model) -> None:
        _write(model, {"kind": KEYPOINTS, "labels": json.dumps(list(self.labels)), "features": json.dumps(self.features.to_dict()),
                       "width": str(self.width), "precision": self.precision, "input": KEYPOINT_INPUT,
                       "provenance": json.dumps(self.provenance, sort_keys=True)})

    @classmethod
    def read(cls, model, where: str = "model") -> KeypointModelInfo:
        get = _getter(model, where)
        try:
            labels = tuple(json.loads(get("labels")))
            order_labels(labels)
            spec = FeatureSpec.from_dict(json.loads(get("features")))
            info = cls(labels, spec, int(get("width")), get("precision"), json.loads(get("provenance")))
        except (ValueError, TypeError, KeyError) as e:
            raise UserError(f"{where}: malformed HomeGym runtime info: {e}") from None
        if spec.version not in FEATURES_VERSIONS or spec.width != info.width:
            raise UserError(f"{where} was trained on features {spec.version} ({info.width} a frame); this HomeGym computes "
                            f"{', '.join(FEATURES_VERSIONS)} (the newest {FeatureSpec(window_s=spec.window_s).width} a frame): "
                            "retrain it with this version")
        return info


def add_features_output(model) -> int | None:
    """Expose the pooled features the classifier's head reads (the input of its first MatMul) as a
    second output, and return their width; None for a model without such a head. They cost nothing
    extra: the network computes them anyway, and the daemon's periodicity follows them."""
    for op in model.get_ordered_ops():
        if op.get_type_name() == "MatMul":
            src = op.input(0).get_source_output()
            shape = src.get_partial_shape()
            if shape.rank.is_static and shape.rank.get_length() == 2 and shape[1].is_static:
                model.add_outputs([src])
                return shape[1].get_length()
            return None
    return None


def read_ir_file(path: Path, what: str = "model"):
    """An IR's graph, with one-line errors for a file that is not one. Through OpenVINO's IR frontend alone:
    ``Core.read_model`` tries every frontend on a file the IR one refuses, and TensorFlow's prints GraphDef parse
    errors above the one line the user should see; a file that is not XML is refused before any frontend sees it."""
    from openvino.frontend import FrontEndManager

    with path.open("rb") as f:
        head = f.read(512).lstrip()
    if not head.startswith((b"<?xml", b"<net")):
        raise UserError(f"cannot read {what} {path}: not an OpenVINO IR (the file is not XML): convert it again with homegym convert")
    try:
        fe = FrontEndManager().load_by_framework("ir")
        return fe.convert(fe.load(str(path)))
    except RuntimeError as e:
        raise UserError(f"cannot read {what} {path}: {openvino_reason(e)} (a damaged IR: convert it again with homegym convert)") from None


def read_model_ir(path: Path) -> tuple[object, ModelInfo | KeypointModelInfo]:
    """Read a classifier IR of either kind and its contract; one-line errors for a missing or corrupt file."""
    path = _ir_path(path)
    model = read_ir_file(path)
    info: ModelInfo | KeypointModelInfo
    if kind_of(model) == KEYPOINTS:
        info = KeypointModelInfo.read(model, str(path))
    else:
        info = ModelInfo.read(model, str(path))
    out = model.output(0).get_partial_shape()
    if out.rank.get_length() != 2 or out[1].get_length() != len(info.labels):
        raise UserError(f"{path}: the model has {out[1]} outputs but {len(info.labels)} labels")
    return model, info


def _ir_path(path: Path) -> Path:
    path = Path(path)
    if path.is_dir():
        path = path / "model.xml"
    if not path.exists():
        raise UserError(f"model not found: {path}")
    if not path.with_suffix(".bin").exists():
        raise UserError(f"model weights not found: {path.with_suffix('.bin')} (an IR is an .xml plus its .bin)")
    return path


def read_ir(path: Path):
    """Read an image classifier's IR and its contract (what convert and the image benchmarks take)."""
    model, info = read_model_ir(path)
    if not isinstance(info, ModelInfo):
        raise UserError(f"{_ir_path(path)} is a keypoint classifier (it runs on the pose stage): this needs an image classifier's IR")
    return model, info
