"""What ``homegym run`` checks before it starts the pipeline, in one place: ``check-config`` runs it, so
``systemctl reload`` (whose ExecReload runs check-config first) fails where the daemon would refuse the file.

Files, the model (read, not compiled), its labels against the counter and voting keys, the pose models it
needs, MQTT's credentials and TLS files, the live page's token file and the state folder: each a one-line
error naming its key.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from homegym.core.errors import UserError
from homegym.core.labels import LabelSet
from homegym.core.model_info import KeypointModelInfo, read_model_ir
from homegym.core.pose_info import read_pose_pair

from ..classify.factory import resolve_model_path
from ..config.settings import Config
from ..counting.counter import counted_exercises
from ..counting.voting import check_overrides
from ..delivery.mqtt import check_files
from ..frames.source import classify
from ..pose.stage import resolve_pose_dir


def check_writable(folder: Path) -> None:
    """state.dir can take a new file (the stores, the token): else one line now, not a lost rep later. A folder not
    there yet is judged by the nearest one that is (run makes it; a check makes nothing)."""
    there = next((p for p in (folder, *folder.parents) if p.exists()), Path("/"))
    try:
        if not there.is_dir():
            raise NotADirectoryError(20, "not a folder", str(there))
        if there == folder:
            with tempfile.TemporaryFile(dir=folder):
                pass
        elif not os.access(there, os.W_OK | os.X_OK):
            raise PermissionError(13, "permission denied", str(there))
    except OSError as e:
        raise UserError(f"state.dir: cannot write in {folder}: {e.strerror or e}") from None


def check_labels(labels: tuple[str, ...], cfg: Config) -> None:
    """The model's labels against the counter's and the voting's keys (an exercise the model lacks, a stale label)."""
    counted_exercises(LabelSet.of(labels, cfg.counter.exercise), cfg.counter)
    check_overrides(labels, cfg.voting)


def preflight(cfg: Config, model: Path | None = None) -> list[str]:
    """Everything ``run`` needs besides the camera and the broker being there; what was checked, a line each."""
    done = []
    path = resolve_model_path(str(model) if model else cfg.model.path, cfg.model.precision)
    _, info = read_model_ir(path)
    check_labels(tuple(info.labels), cfg)
    done.append(f"model {path}: {len(info.labels)} labels")
    if isinstance(info, KeypointModelInfo) or cfg.pose.enabled:
        folder = resolve_pose_dir(cfg.pose.path)
        read_pose_pair(folder, cfg.pose.model)
        done.append(f"pose models in {folder} ({cfg.pose.model})")
    if cfg.mqtt.enabled:
        check_files(cfg.mqtt)
        done.append(f"MQTT to {cfg.mqtt.host}:{cfg.mqtt.port}: its files readable")
    if cfg.live.enabled and cfg.live.token_file:
        token = Path(cfg.live.token_file).expanduser()
        if token.exists() and not token.is_file():
            raise UserError(f"live.token_file: not a file: {token}")
    check_writable(cfg.state.path())
    done.append(f"state in {cfg.state.path()}: writable")
    check_source(cfg)
    return done


def check_source(cfg: Config) -> None:
    """A file source is there (a camera or a stream may come later: the daemon waits for it)."""
    src = classify(cfg.source.uri)
    if src.kind == "file" and not Path(str(src.target)).is_file():
        raise UserError(f"source.uri: no such video file: {src.target}")
