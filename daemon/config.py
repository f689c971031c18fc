"""config.yaml: loading and validation up front.

Every key has a type, a range or a set of choices, and a default; unknown keys,
wrong types and out-of-range values are each reported on one line that names the
key path and what was expected. ``config.yaml`` at the project root documents every
key; a test keeps it and this schema in step.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from homegym.core.errors import UserError

from .counter import CounterConfig
from .periodicity import PeriodicityConfig
from .publisher import MqttConfig
from .voting import VotingConfig


class ConfigError(UserError):
    def __init__(self, problems: list[str], where: str) -> None:
        self.problems = problems
        super().__init__("\n".join(f"{where}: {p}" for p in problems))


@dataclass(frozen=True)
class Key:
    type: type | tuple[type, ...]
    default: Any
    lo: float | None = None
    hi: float | None = None
    choices: tuple | None = None


# section -> key -> Key. The order here is the order of config.yaml.
SCHEMA: dict[str, dict[str, Key]] = {
    "source": {
        "uri": Key((int, str), 0),
        "width": Key(int, 640, 16, 7680),
        "height": Key(int, 480, 16, 4320),
        "fps": Key((int, float), 30, 1, 240),
        "realtime": Key(bool, False),
        "stall_timeout_s": Key((int, float), 5.0, 0.5, 600),
        "reconnect_initial_s": Key((int, float), 0.5, 0.01, 60),
        "reconnect_max_s": Key((int, float), 30.0, 0.1, 3600),
    },
    "model": {
        "path": Key((str, type(None)), None),
        "device": Key(str, "CPU"),
        "precision": Key((str, type(None)), None, choices=(None, "fp32", "fp16", "int8")),
        "cache_dir": Key((str, type(None)), "auto"),
        "infer_requests": Key(int, 2, 1, 16),
        "cpu_precision": Key(str, "f32", choices=("f32", "auto")),
    },
    "pipeline": {
        "ring_capacity": Key(int, 64, 4, 4096),
        "infer_fps": Key((int, float, type(None)), 15, 1, 240),
    },
    "voting": {
        "method": Key(str, "ema", choices=("ema", "window")),
        "ema_alpha": Key((int, float), 0.5, 0.01, 1.0),
        "window": Key(int, 5, 1, 300),
        "enter": Key((int, float), 0.6, 0.0, 1.0),
        "exit": Key((int, float), 0.4, 0.0, 1.0),
        "min_dwell": Key(int, 2, 1, 300),
        "per_label": Key(dict, {}),
        "fold_exercises": Key(bool, True),
        "exercise_alpha": Key((int, float), 0.03, 0.001, 1.0),
    },
    "periodicity": {
        "enabled": Key(bool, True),
        "window_s": Key((int, float), 6.0, 1.0, 60.0),
        "min_agreement": Key((int, float), 0.8, 0.0, 1.0),
        "min_phase_swing": Key((int, float), 0.1, 0.0, 1.0),
        "sharpness": Key((int, float), 4.0, 0.1, 20.0),
    },
    "counter": {
        "exercise": Key((str, type(None)), None),
        "min_rep_s": Key((int, float), 0.3, 0.0, 60),
        "max_rep_s": Key((int, float), 10.0, 0.1, 600),
        "set_timeout_s": Key((int, float), 20.0, 1.0, 86400),
        "partial_min": Key((int, float), 0.3, 0.0, 1.0),
    },
    "mqtt": {
        "enabled": Key(bool, True),
        "host": Key(str, "localhost"),
        "port": Key(int, 1883, 1, 65535),
        "client_id": Key(str, "homegym"),
        "keepalive_s": Key(int, 30, 5, 3600),
        "qos": Key(int, 1, choices=(1, 2)),
        "topic_prefix": Key(str, "gym"),
        "reconnect_min_s": Key((int, float), 1.0, 1.0, 600),
        "reconnect_max_s": Key((int, float), 60.0, 1.0, 3600),
        "username": Key((str, type(None)), None),
        "password_file": Key((str, type(None)), None),
        "tls_ca_file": Key((str, type(None)), None),
        "tls_certfile": Key((str, type(None)), None),
        "tls_keyfile": Key((str, type(None)), None),
        "ha_discovery": Key(bool, True),
        "ha_prefix": Key(str, "homeassistant"),
        "stats_interval_s": Key((int, float), 30.0, 1.0, 86400),
    },
    "state": {
        "dir": Key((str, type(None)), None),
        "outbox_max_events": Key(int, 10_000, 10, 10_000_000),
        "outbox_max_age_days": Key((int, float), 7, 0.01, 3650),
    },
    "logging": {
        "level": Key(str, "info", choices=("debug", "info", "warning", "error")),
    },
}
PER_LABEL_KEYS = {"enter": (0.0, 1.0), "exit": (0.0, 1.0), "min_dwell": (1, 300)}


@dataclass(frozen=True)
class SourceConfig:
    uri: int | str = 0
    width: int = 640
    height: int = 480
    fps: float = 30.0
    realtime: bool = False
    stall_timeout_s: float = 5.0
    reconnect_initial_s: float = 0.5
    reconnect_max_s: float = 30.0


@dataclass(frozen=True)
class ModelConfig:
    path: str | None = None
    device: str = "CPU"
    precision: str | None = None
    cache_dir: str | None = "auto"
    infer_requests: int = 2
    cpu_precision: str = "f32"  # "auto": OpenVINO's default on the CPU (bf16 where the CPU has it)

    def cache_path(self) -> Path | None:
        """"auto": $CACHE_DIRECTORY/ov_cache under systemd, else ~/.cache/homegym/ov_cache; None: no cache."""
        from homegym.core.runtime import default_cache

        if self.cache_dir is None:
            return None
        return default_cache() if self.cache_dir == "auto" else Path(self.cache_dir).expanduser()


@dataclass(frozen=True)
class StateConfig:
    dir: str | None = None  # None: $STATE_DIRECTORY (systemd) or ~/.local/state/homegym
    outbox_max_events: int = 10_000
    outbox_max_age_days: float = 7

    def path(self) -> Path:
        import os

        d = self.dir or os.environ.get("STATE_DIRECTORY", "").split(":")[0] or "~/.local/state/homegym"
        return Path(d).expanduser()


@dataclass(frozen=True)
class Config:
    source: SourceConfig = field(default_factory=SourceConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    ring_capacity: int = 64
    infer_fps: float | None = 15  # None: every frame
    voting: VotingConfig = field(default_factory=VotingConfig)
    periodicity: PeriodicityConfig = field(default_factory=PeriodicityConfig)
    counter: CounterConfig = field(default_factory=CounterConfig)
    mqtt: MqttConfig = field(default_factory=MqttConfig)
    state: StateConfig = field(default_factory=StateConfig)
    log_level: str = "info"


def _type_name(t) -> str:
    ts = t if isinstance(t, tuple) else (t,)
    if float in ts:  # an int is a number too
        ts = tuple(x for x in ts if x is not int)
    names = {int: "an integer", float: "a number", str: "a string", bool: "true/false", dict: "a mapping", type(None): "null"}
    return " or ".join(dict.fromkeys(names.get(x, x.__name__) for x in ts))


def _check(path: str, value: Any, key: Key, problems: list[str]) -> Any:
    ok_types = key.type if isinstance(key.type, tuple) else (key.type,)
    if isinstance(value, bool) and bool not in ok_types:
        problems.append(f"{path}: expected {_type_name(key.type)}, got {value!r}")
        return key.default
    if not isinstance(value, ok_types):
        problems.append(f"{path}: expected {_type_name(key.type)}, got {type(value).__name__} {value!r}")
        return key.default
    if key.choices is not None and value not in key.choices:
        problems.append(f"{path}: expected one of {', '.join(str(c) for c in key.choices if c is not None)}, got {value!r}")
    if key.lo is not None and isinstance(value, (int, float)) and not isinstance(value, bool) and not (key.lo <= value <= key.hi):
        problems.append(f"{path}: expected {key.lo:g}..{key.hi:g}, got {value!r}")
    return value


def parse(data: Any, where: str = "config") -> Config:
    """Validate a loaded YAML document; raise ConfigError listing every problem."""
    problems: list[str] = []
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError([f"expected a mapping of sections ({', '.join(SCHEMA)}), got {type(data).__name__}"], where)
    values: dict[str, dict[str, Any]] = {}
    for section, keys in SCHEMA.items():
        given = data.get(section) or {}
        if not isinstance(given, dict):
            problems.append(f"{section}: expected a mapping, got {type(given).__name__}")
            given = {}
        for k in given:
            if k not in keys:
                problems.append(f"{section}.{k}: unknown key (known: {', '.join(keys)})")
        values[section] = {k: _check(f"{section}.{k}", given[k], spec, problems) if k in given else spec.default for k, spec in keys.items()}
    for section in data:
        if section not in SCHEMA:
            problems.append(f"{section}: unknown section (known: {', '.join(SCHEMA)})")
    per_label = values["voting"]["per_label"]
    for label, overrides in (per_label or {}).items():
        if not isinstance(overrides, dict):
            problems.append(f"voting.per_label.{label}: expected a mapping of enter/exit/min_dwell")
            continue
        for k, v in overrides.items():
            if k not in PER_LABEL_KEYS:
                problems.append(f"voting.per_label.{label}.{k}: unknown key (known: {', '.join(PER_LABEL_KEYS)})")
            elif isinstance(v, bool) or not isinstance(v, (int, float)) or not PER_LABEL_KEYS[k][0] <= v <= PER_LABEL_KEYS[k][1]:
                lo, hi = PER_LABEL_KEYS[k]
                problems.append(f"voting.per_label.{label}.{k}: expected {lo:g}..{hi:g}, got {v!r}")
    v, c = values["voting"], values["counter"]
    if v["exit"] > v["enter"]:
        problems.append(f"voting.exit: must not exceed voting.enter ({v['exit']} > {v['enter']})")
    if c["min_rep_s"] >= c["max_rep_s"]:
        problems.append(f"counter.min_rep_s: must be below counter.max_rep_s ({c['min_rep_s']} >= {c['max_rep_s']})")
    s = values["source"]
    if s["reconnect_initial_s"] > s["reconnect_max_s"]:
        problems.append("source.reconnect_initial_s: must not exceed source.reconnect_max_s")
    m = values["mqtt"]
    if m["reconnect_min_s"] > m["reconnect_max_s"]:
        problems.append("mqtt.reconnect_min_s: must not exceed mqtt.reconnect_max_s")
    if (m["tls_certfile"] is None) != (m["tls_keyfile"] is None):
        problems.append("mqtt.tls_certfile: a client certificate needs both tls_certfile and tls_keyfile")
    if m["password_file"] and not m["username"]:
        problems.append("mqtt.password_file: set mqtt.username too")
    if problems:
        raise ConfigError(problems, where)
    return Config(
        source=SourceConfig(**s),
        model=ModelConfig(**values["model"]),
        ring_capacity=values["pipeline"]["ring_capacity"],
        infer_fps=values["pipeline"]["infer_fps"],
        voting=VotingConfig(**{k: v[k] for k in ("method", "ema_alpha", "window", "enter", "exit", "min_dwell", "fold_exercises",
                                                 "exercise_alpha")}, per_label=per_label or {}),
        periodicity=PeriodicityConfig(**values["periodicity"]),
        counter=CounterConfig(**c),
        mqtt=MqttConfig(**m),
        state=StateConfig(**values["state"]),
        log_level=values["logging"]["level"],
    )


def for_file(cfg: Config, video: Path | str) -> Config:
    """What ``homegym count`` (and ``eval``) run on: the file as the source, read as fast as the machine allows."""
    import dataclasses

    return dataclasses.replace(cfg, source=dataclasses.replace(cfg.source, uri=str(video), realtime=False))


def load(path: Path | None) -> Config:
    """Load and validate a config file (None: all defaults)."""
    if path is None:
        return Config()
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise UserError(f"cannot read config {path}: {e.strerror}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise UserError(f"{path}: not valid YAML{at}: {getattr(e, 'problem', None) or e}") from None
    return parse(data, str(path))
