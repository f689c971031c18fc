"""config.yaml: the one source of truth for every key's type, bounds, default and description.

Each section is a pydantic model (strict types, unknown keys refused, bounds on the
field, cross-field rules beside the fields they relate). The reference ``config.yaml``
and ``docs/configuration.md`` are rendered from these models (``config/reference.py``)
and tests hold the checked-in files equal to the rendering, so a default is written
once, here. A bad file fails with one line per problem, naming the key path.
"""

from __future__ import annotations

import ipaddress
import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from homegym.core.errors import UserError, shorten
from homegym.core.exercises import EXERCISES
from homegym.core.topics import topic_problem

from .yamlfile import load_yaml


class ConfigError(UserError):
    def __init__(self, problems: list[str], where: str) -> None:
        self.problems = problems
        super().__init__("\n".join(f"{where}: {p}" for p in problems))


class Section(BaseModel):
    """Frozen (a running stage holds its section; a reload builds a new one), strict, no unknown keys."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, use_attribute_docstrings=True)


Seconds = float
Probability = Annotated[float, Field(ge=0.0, le=1.0)]


class SourceConfig(Section):
    """What the daemon watches."""

    uri: int | str = 0
    """What to watch: a camera index (0) or device (/dev/video0), a video file, or an rtsp://, http:// or https:// URL."""
    width: int = Field(640, ge=16, le=7680)
    """Width asked of a camera, in pixels (cameras may pick the nearest they support; ignored for files and URLs)."""
    height: int = Field(480, ge=16, le=4320)
    """Height asked of a camera, in pixels."""
    fps: float = Field(30.0, ge=1, le=240)
    """Frame rate asked of a camera."""
    realtime: bool = False
    """Files only: read at the file's own frame rate, as if it were a camera (true), or as fast as the machine allows (false)."""
    stall_timeout_s: Seconds = Field(5.0, ge=0.5, le=600)
    """Live sources: no frame for this many seconds counts as a stall and forces a reconnect."""
    reconnect_initial_s: Seconds = Field(0.5, ge=0.01, le=60)
    """Reconnect backoff of a live source that failed or stalled: the first wait, doubled after every failed attempt."""
    reconnect_max_s: Seconds = Field(30.0, ge=0.1, le=3600)
    """The cap of that backoff."""

    @model_validator(mode="after")
    def _backoff(self) -> Self:
        if self.reconnect_initial_s > self.reconnect_max_s:
            raise ValueError("reconnect_initial_s: must not exceed source.reconnect_max_s")
        return self


class ModelConfig(Section):
    """The OpenVINO model and where it runs."""

    path: str | None = None
    """The IR (model.xml) written by `homegym convert`, or a folder holding one (or one per precision: fp32/, fp16/, int8/).
    null (or `default`) = the shipped default model, the keypoint classifier of the eight exercises; `image` = the seed's
    image classifier (push-ups and squats)."""
    device: str = "CPU"
    """Where it runs: CPU, GPU, NPU, AUTO, or AUTO with a priority list (AUTO:NPU,CPU; the NPU is not in AUTO's default list)."""
    precision: Literal["fp32", "fp16", "int8"] | None = None
    """Picks that precision's sub-folder of a model folder, and must match the IR's own precision. null = whatever the IR is."""
    cache_dir: str | None = "auto"
    """OpenVINO's compiled-model cache, so a restart does not compile again. auto = $CACHE_DIRECTORY/ov_cache under systemd
    (CacheDirectory=), else ~/.cache/homegym/ov_cache; null = off."""
    infer_requests: int = Field(2, ge=1, le=16)
    """Inference requests in flight at once (asynchronous, so capture and inference overlap)."""
    cpu_precision: Literal["f32", "auto"] = "f32"
    """The classifier's floating-point precision on the CPU: f32 (the counts `homegym eval` measured), or auto (OpenVINO's
    default: bf16 on a CPU with AVX-512 BF16 or AMX; it changes some of the image classifier's counts: docs/benchmarks.md).
    The pose stage has its own, pose.precision."""

    def cache_path(self) -> Path | None:
        """The cache folder this config names; None: no cache."""
        from homegym.core.runtime import default_cache

        if self.cache_dir is None:
            return None
        return default_cache() if self.cache_dir == "auto" else Path(self.cache_dir).expanduser()


class PipelineConfig(Section):
    """Between capture and the model."""

    ring_capacity: int = Field(64, ge=4, le=4096)
    """Frames the ring between capture and inference holds; when inference falls behind a live source the oldest unread
    frames are overwritten and counted as dropped."""
    infer_fps: float | None = Field(15.0, ge=1, le=240)
    """Frames inferred per second. A faster source passes on every n-th frame (n = round(source fps / infer_fps)); the others
    are never converted to pixels. A rep lasts half a second or more, and 15 frames a second count it as well as 30 at half
    the CPU. The voting's frame counts (min_dwell, window) are of these frames. null = every frame."""


class PoseConfig(Section):
    """The pose stage: the person's skeleton in every inferred frame (MediaPipe's BlazePose on OpenVINO; docs/pose.md)."""

    enabled: bool = False
    """Run the pose stage. With the image classifier only `--annotate` and `homegym pose` draw or write
    its skeleton, so it is off; `homegym count --annotate` turns it on."""
    model: Literal["lite", "full", "heavy"] = "full"
    """BlazePose's landmark model: full (what the shipped classifier was trained on), lite (the lightest: about half the
    stage's CPU, counting about as full does out of fold but a circuit's curls and some sets worse:
    docs/model-card.md),
    or heavy (the most exact, for a box with a GPU or NPU; converted on demand: docs/pose.md). lite and full ship."""
    path: str | None = None
    """A folder with the pose IRs (detector.xml, landmarks_<model>.xml) written by `homegym convert`. null = the shipped
    ones."""
    device: str = "CPU"
    """Where the pose models run: CPU, GPU, NPU or AUTO[:list], as model.device."""
    precision: Literal["auto", "f32", "bf16"] = "auto"
    """The pose models' floating-point precision on the CPU: auto = bf16 where the CPU has it (AVX-512 BF16 or AMX) and
    the landmark model counts the eval split as in f32 (with the shipped classifier none does: f32; docs/model-card.md),
    else f32; f32 = always f32; bf16 = bf16 wherever the CPU has it (lite 1.5x, full 1.6x as fast, some counts change).
    model.cpu_precision is the classifier's alone."""
    threads: int | None = Field(None, ge=1, le=64)
    """CPU threads of each pose model. null = one for a live source (the cheapest in CPU time, a frame at a time) and every
    core for a file read as fast as it decodes."""
    frame_size: int = Field(512, ge=224, le=1920)
    """Side of the square picture the stage works on, in pixels: the frame scaled to fit, black around it."""
    min_detection_score: Probability = 0.5
    """The detector's score over which a person is found (MediaPipe's min_detection_confidence)."""
    idle_detect_fps: float = Field(5.0, ge=0.5, le=240)
    """Live sources: while nobody is in view, the detector runs at most this often (an empty room costs a fraction of a
    core, not the detector on every frame); a person stepping in is found within 1/idle_detect_fps s. Files: every frame."""
    idle_after_s: float = Field(3.0, ge=0.0, le=600)
    """... once nobody was found for this long. A person lost for a moment mid-set (a fast move, an arm across the
    face) is sought on every frame, as offline, so no rep is missed while the detector waits."""
    min_presence: Probability = 0.5
    """The landmark model's presence under which the person counts as lost and the detector runs again (MediaPipe's
    min_tracking_confidence)."""
    smoothing: bool = True
    """Smooth the landmarks over time (MediaPipe's velocity-scaled one-euro filter)."""
    min_cutoff: float = Field(0.05, ge=0.001, le=100.0)
    """The filter's cutoff in Hz for a still landmark: lower smooths more."""
    beta: float = Field(80.0, ge=0.0, le=10000.0)
    """How fast the cutoff rises with the landmark's speed (in person sizes a second): higher lags less in fast moves."""
    visibility_alpha: float = Field(0.1, ge=0.01, le=1.0)
    """Weight of each frame's visibility in its running average."""


class RestConfig(Section):
    """The quiet rest (live only): while the person is in view but still, between sets, the pose stage and the classifier
    run a few frames a second; the first sign of movement brings back pipeline.infer_fps. Files counted offline
    (`homegym count`, `eval`) infer every frame they would without it."""

    enabled: bool = True
    """Infer at rest.fps while the person holds still."""
    fps: float = Field(2.0, ge=0.2, le=30)
    """Frames inferred a second while resting: a move is seen within 1/fps s."""
    after_s: Seconds = Field(2.0, ge=0.5, le=600)
    """Still for this long before resting: a pause at the top of a rep is not a rest."""
    still: float = Field(0.08, ge=0.005, le=1.0)
    """How far every visible joint may stray from where the stillness began and still be still, in torso lengths
    (shoulders' centre to hips' centre). Higher rests sooner; lower wakes on smaller moves."""


class LabelOverride(Section):
    """Per-label thresholds that replace the section's."""

    enter: Probability | None = None
    exit: Probability | None = None
    min_dwell: int | None = Field(None, ge=1, le=300)


class VotingConfig(Section):
    """Smoothing of the per-frame class probabilities, and when a phase changes."""

    method: Literal["ema", "window"] = "ema"
    """ema (exponential moving average) or window (mean of the last `window` frames)."""
    ema_alpha: float = Field(0.5, ge=0.01, le=1.0)
    """EMA: weight of the newest frame (1 = no smoothing)."""
    window: int = Field(5, ge=1, le=300)
    """Window: frames averaged."""
    enter: Probability = 0.6
    """Hysteresis: a phase is entered when its smoothed probability reaches `enter` and the current phase's has fallen to
    `exit` or below."""
    exit: Probability = 0.4
    """See enter; exit <= enter."""
    min_dwell: int = Field(2, ge=1, le=300)
    """Consecutive frames a new phase must win before it is taken, so a flicker never becomes a phase change."""
    per_label: dict[str, LabelOverride] = Field(default_factory=dict)
    """Per-label overrides of enter, exit and min_dwell, e.g. {pushup_down: {enter: 0.55, min_dwell: 4}}."""
    fold_exercises: bool = True
    """A model of several exercises: count on the phase (all *_up, all *_down summed) and take the exercise from a slow
    average, so a bottom the model cannot tell push-up from squat still counts."""
    exercise_alpha: float = Field(0.03, ge=0.001, le=1.0)
    """Weight of the newest frame in that slow average of each exercise's probability (0.03 at 15 fps: about two seconds)."""

    @model_validator(mode="after")
    def _hysteresis(self) -> Self:
        if self.exit > self.enter:
            raise ValueError(f"exit: must not exceed voting.enter ({self.exit} > {self.enter})")
        return self

    def get(self, label: str, key: str) -> float:
        """The threshold ``key`` for ``label``: its override where it has one, else the section's."""
        override = self.per_label.get(label)
        value = getattr(override, key) if override is not None else None
        return getattr(self, key) if value is None else value


class PeriodicityConfig(Section):
    """Fusing the image classifier with the movement's own repetition (daemon/counting/periodicity.py). It reads the
    image classifier's pooled features: with the keypoint classifier (the default model), which has none, it is off
    whatever `enabled` says, and the log says so at start."""

    enabled: bool = True
    """Over the last `window_s` seconds, the main swing of the features the classifier's head reads is the movement; where
    it agrees with the classifier's own down-minus-up, it decides which frames are tops and bottoms, and the classifier
    keeps deciding whether a set runs and of which exercise."""
    window_s: Seconds = Field(6.0, ge=1.0, le=60.0)
    """The window: long enough for two reps."""
    min_agreement: Probability = 0.8
    """The least |correlation| of the swing with the classifier's down-minus-up over the window for the swing to decide the
    phase (a curl swings, but the classifier sees someone standing throughout)."""
    min_phase_swing: Probability = 0.1
    """The least spread (standard deviation) of the classifier's down-minus-up over the window: below it the classifier sees
    no phases change at all."""
    sharpness: float = Field(4.0, ge=0.1, le=20.0)
    """How sharply the swing splits the phase mass between top and bottom: the bottom's share is sigmoid(sharpness *
    position), position -1 at the window's top, +1 at its bottom."""


class ExerciseOverride(Section):
    """Per-exercise counting that replaces the section's: a movement with its own pace."""

    min_rep_s: Seconds | None = Field(None, ge=0.0, le=60)
    max_rep_s: Seconds | None = Field(None, ge=0.1, le=600)
    partial_min: Probability | None = None
    min_travel_deg: float | None = Field(None, ge=0.0, le=180.0)
    min_legs_deg: float | None = Field(None, ge=0.0, le=180.0)
    min_set_reps: int | None = Field(None, ge=1, le=10)


# Each exercise's own counting, chosen out of fold on the train split with the fewest reps wrong, missed and false
# alike (homegym tune --grid exercise; docs/model-card.md): the voted phases of a fast set (a one-minute push-up
# challenge at 0.8 s a rep, jumping jacks, kipping pull-ups) leave the start for well under 0.3 s; a held plank's,
# a lateral raise's or a pose's flicker moves the push-up's elbow, the jack's shoulders or the curl's elbow too little
# to be a rep (min_travel_deg); a lone jumping jack or lunge was more often a raise, a march or a step-up than a
# set of one (min_set_reps).
PER_EXERCISE: dict[str, dict[str, float]] = {
    "pushup": {"min_rep_s": 0.1, "max_rep_s": 15.0, "min_travel_deg": 30.0},
    "squat": {"min_rep_s": 0.1},
    "lunge": {"min_rep_s": 0.1, "min_set_reps": 2},
    "situp": {"min_rep_s": 0.5},
    "jumping_jack": {"min_rep_s": 0.1, "min_travel_deg": 60.0, "min_set_reps": 2},
    "pullup": {"min_rep_s": 0.1},
    "curl": {"min_rep_s": 0.1, "min_travel_deg": 60.0},
    "shoulder_press": {"min_rep_s": 0.1},
}


class CounterConfig(Section):
    """Turning phases into reps and sets."""

    exercise: str | None = None
    """The exercise a three-class model's bare up/down labels belong to (pushup, squat, ...). Ignored by a model whose
    labels name their exercise (pushup_up, squat_down, ...)."""
    min_rep_s: Seconds = Field(0.3, ge=0.0, le=60)
    """A rep is start -> turn -> start (a push-up's up -> down -> up, a pull-up's down -> up -> down), timed as the time away
    from the start; shorter than this it is a partial rep, not counted."""
    max_rep_s: Seconds = Field(10.0, ge=0.1, le=600)
    """Longer than this it is a partial rep, not counted."""
    set_timeout_s: Seconds = Field(20.0, ge=1.0, le=86400)
    """No rep for this long ends the set."""
    partial_min: Probability = 0.3
    """A dip whose bottom probability reaches this without the bottom being voted is reported as a partial rep."""
    min_travel_deg: float = Field(0.0, ge=0.0, le=180.0)
    """A rep whose joint (form's: the elbow of a push-up, the knee of a squat, docs/form.md) was seen to move fewer
    degrees than this from its start to its turn is no rep: a held plank's or a pose's flicker that the phases took for
    one. It goes to <prefix>/partials with reason still. Needs form.enabled; a joint not seen is not judged. 0: off."""
    min_legs_deg: float = Field(0.0, ge=0.0, le=180.0)
    """A rep whose legs (their opening: the angle at the hips between the ankles, docs/form.md) were not seen to open at
    least this many degrees over the rep is no rep: a lateral raise's, a front raise's or an upright row's arms move as a
    jumping jack's do, its legs stay together. It goes to <prefix>/partials with reason legs_still; legs not seen (a
    picture of the waist up) are no rep either where the key is set. Needs form.enabled. 0: off."""
    min_set_reps: int = Field(1, ge=1, le=10)
    """A set counts once it has this many reps: its first reps wait and go out together, each with its own time and
    measures, when the set reaches it; a set that ends before goes to <prefix>/partials, each rep with reason alone. A
    lone movement the phases took for a rep (a stretch, a dance step) is then not counted, nor is a set shorter than
    this. 1: every rep goes out as it is counted."""
    exercises: list[str] | None = None
    """The exercises counted, e.g. [pushup, squat, lunge]: a phase of any other is neither, and Home Assistant's sensor
    of it goes. null = every exercise the model knows. One the model does not know is refused when the model opens."""
    per_exercise: dict[str, ExerciseOverride] = Field(
        default_factory=lambda: {ex: ExerciseOverride.model_validate(v) for ex, v in PER_EXERCISE.items()})
    """Per-exercise overrides of min_rep_s, max_rep_s, partial_min, min_travel_deg, min_legs_deg and min_set_reps, e.g.
    {curl: {max_rep_s: 15}} for curls held at the top. A config that sets it replaces the whole default (copy the entries to keep)."""
    bottom_first: bool = True
    """Count a rep whose top was not voted before its bottom (down -> up, timed from the bottom's vote): the first rep of
    someone who gets into position and goes straight down, and a rep whose top or bottom was voted as the other exercise
    (it counts as the exercise of the top it returns to). Off: every rep needs up -> down -> up of one exercise (the
    default model's figures: off, MAE 0.56 out of fold; on, 0.14: docs/model-card.md)."""

    @field_validator("exercises")
    @classmethod
    def _known_exercises(cls, v: list[str] | None) -> list[str] | None:
        if v is None:
            return v
        unknown = [n for n in v if n not in EXERCISES]
        if unknown or not v:
            raise ValueError(f"{', '.join(unknown) or 'an empty list'} is not an exercise (choose from {', '.join(EXERCISES)})")
        return list(dict.fromkeys(v))

    @field_validator("per_exercise")
    @classmethod
    def _known_overrides(cls, v: dict[str, ExerciseOverride]) -> dict[str, ExerciseOverride]:
        _known_names(v)
        return v

    @model_validator(mode="after")
    def _rep_bounds(self) -> Self:
        for ex in (None, *self.per_exercise):
            low, high = self.get(ex, "min_rep_s"), self.get(ex, "max_rep_s")
            if low >= high:
                where = f"per_exercise.{ex}." if ex else ""
                raise ValueError(f"{where}min_rep_s: must be below counter.{where}max_rep_s ({low} >= {high})")
        return self

    def get(self, exercise: str | None, key: str) -> float:
        """The setting ``key`` for ``exercise``: its override where it has one, else the section's."""
        override = self.per_exercise.get(exercise) if exercise else None
        value = getattr(override, key) if override is not None else None
        return getattr(self, key) if value is None else value


def _known_names(names: Any) -> None:
    """A ValueError naming every key of ``names`` that is not an exercise."""
    unknown = [str(n) for n in names if n not in EXERCISES]
    if unknown:
        raise ValueError(f"{', '.join(unknown)} is not an exercise (choose from {', '.join(EXERCISES)})")


Degrees = Annotated[float, Field(ge=0.0, le=180.0)]
Slope = Annotated[float, Field(ge=-90.0, le=90.0)]


class FullRange(Section):
    """What a full rep reaches at its turn point, in degrees (a joint's angle: 180 = straight); a key left out is not
    checked."""

    elbow_max: Degrees | None = None
    elbow_min: Degrees | None = None
    knee_max: Degrees | None = None
    knee_min: Degrees | None = None
    hip_max: Degrees | None = None
    hip_min: Degrees | None = None
    shoulder_max: Degrees | None = None
    shoulder_min: Degrees | None = None
    thigh_min: Slope | None = None
    thigh_max: Slope | None = None

    def checks(self) -> list[tuple[str, str, str, float]]:
        """(key, measure, "min" or "max", limit) of every key set."""
        out = []
        for key in type(self).model_fields:
            limit = getattr(self, key)
            if limit is not None:
                measure, bound = key.rsplit("_", 1)
                out.append((key, measure, bound, float(limit)))
        return out


# A full rep by default (docs/form.md): a push-up's elbows at 90 degrees or less; a squat's hips at or below the knees,
# judged as a coach does, by the hip crease against the top of the knee: the pose's hip and knee points are the joints'
# centres, and crease level with knee top puts the centres' line about 10 degrees above level; a lunge's front knee near
# a right angle; a sit-up's torso up past 100 degrees at the hip (a crunch stops short of it); a jumping jack's arms up
# past 120 degrees; a pull-up's elbows bent past 90; a curl's elbow closed past 80; a press locked out at 160 or more.
FULL: dict[str, dict[str, float]] = {
    "pushup": {"elbow_max": 90.0},
    "squat": {"thigh_min": -10.0},
    "lunge": {"knee_max": 110.0},
    "situp": {"hip_max": 100.0},
    "jumping_jack": {"shoulder_min": 120.0},
    "pullup": {"elbow_max": 90.0},
    "curl": {"elbow_max": 80.0},
    "shoulder_press": {"elbow_min": 160.0},
}


class FormConfig(Section):
    """Each counted rep measured from the pose stage's keypoints: its tempo, its range of motion, and whether it was full
    (docs/form.md). The measures join the rep's event on <prefix>/reps; the set's averages join <prefix>/sets."""

    enabled: bool = True
    """Measure each rep. It needs the pose stage: the default model runs it; with the image model set pose.enabled (else
    its reps carry no measures)."""
    count_short: bool = True
    """Count a rep that falls short of form.full (its event says full: false and which threshold it missed). false: such
    a rep is not counted; it goes to <prefix>/partials with reason short and the threshold it missed."""
    min_visibility: Probability = 0.5
    """A joint seen with less visibility than this is not measured: its angle is left out, not guessed, and the event's
    unmeasured says so."""
    full: dict[str, FullRange] = Field(default_factory=lambda: {ex: FullRange(**v) for ex, v in FULL.items()})
    """Per exercise, what a full rep reaches at its turn point: elbow_, knee_, hip_ (the angle at the hip between torso
    and thigh) or shoulder_ (the armpit's opening) with max or min, in degrees (180 = straight), and thigh_min or
    thigh_max, the thighs' slope below level (0: hips at knee height; -10: hip crease at the top of the knee). An
    exercise given here replaces its default ({} checks nothing); the others keep theirs. Why each default: docs/form.md."""

    @field_validator("full", mode="before")
    @classmethod
    def _over_defaults(cls, v: Any) -> Any:
        if not isinstance(v, dict):
            return v
        _known_names(v)
        return {**{ex: FullRange(**d) for ex, d in FULL.items()}, **v}


class MqttConfig(Section):
    """The broker the events go to (`homegym run` only; `homegym count` never publishes)."""

    enabled: bool = True
    """Publish events to an MQTT broker. Counting never waits for the broker: events wait in the outbox (see state)."""
    host: str = "localhost"
    """The broker's host name or address."""
    port: int = Field(1883, ge=1, le=65535)
    """The broker's port (8883 is the usual TLS port)."""
    client_id: str = Field("homegym", min_length=1, max_length=128)
    """MQTT client id; unique per daemon on one broker."""
    keepalive_s: int = Field(30, ge=5, le=3600)
    """The broker declares us gone (and publishes `offline`, the last will) after 1.5 times this without a packet."""
    qos: Literal[1, 2] = 1
    """QoS of rep and set events: 1 (at least once; duplicates carry the same seq) or 2."""
    topic_prefix: str = "gym"
    """Topics are <prefix>/reps, /sets, /state, /status, /stats, /cmd/... . MQTT topic rules apply: no # or +, no NUL, no
    leading or trailing /."""
    commands: bool = False
    """Obey commands on <prefix>/cmd/reset and <prefix>/cmd/exercise. Anyone who can publish on the broker can send them:
    restrict who may with the broker's ACL (docs/mqtt.md). Retained commands are never obeyed."""
    reconnect_min_s: Seconds = Field(1.0, ge=1.0, le=600)
    """Reconnect backoff: the first wait, doubling up to reconnect_max_s."""
    reconnect_max_s: Seconds = Field(60.0, ge=1.0, le=3600)
    """The cap of that backoff."""
    username: str | None = None
    """A user name for the broker."""
    password_file: str | None = None
    """A file holding the password (never the password itself; under systemd, a credential:
    /run/credentials/homegym.service/mqtt-password)."""
    tls_ca_file: str | None = None
    """The CA file that signs the broker's certificate (turns TLS on)."""
    tls_certfile: str | None = None
    """A client certificate (with tls_keyfile: both or neither)."""
    tls_keyfile: str | None = None
    """The client certificate's key."""
    ha_discovery: bool = True
    """Home Assistant MQTT discovery: a sensor for today's total, one for the current exercise and an event entity for reps,
    on one device, available while status is online; sent on connect and whenever Home Assistant publishes `online` on
    <ha_prefix>/status."""
    ha_prefix: str = "homeassistant"
    """Home Assistant's discovery prefix."""
    stats_interval_s: Seconds = Field(30.0, ge=1.0, le=86400)
    """How often <prefix>/stats reports health (fps in and inferred, dropped frames, inference latency, reconnects, the
    outbox)."""

    @field_validator("topic_prefix", "ha_prefix")
    @classmethod
    def _topic(cls, v: str) -> str:
        problem = topic_problem(v)
        if problem:
            raise ValueError(problem)
        return v

    @model_validator(mode="after")
    def _pairs(self) -> Self:
        if self.reconnect_min_s > self.reconnect_max_s:
            raise ValueError("reconnect_min_s: must not exceed mqtt.reconnect_max_s")
        if (self.tls_certfile is None) != (self.tls_keyfile is None):
            raise ValueError("tls_certfile: a client certificate needs both tls_certfile and tls_keyfile")
        if self.password_file and not self.username:
            raise ValueError("password_file: set mqtt.username too")
        return self


class StateConfig(Section):
    """What survives a restart."""

    dir: str | None = None
    """Where state.sqlite3 (today's totals, the last seq) and outbox.sqlite3 (events not yet acknowledged) live.
    null = $STATE_DIRECTORY (systemd's StateDirectory=) or ~/.local/state/homegym."""
    outbox_max_events: int = Field(10_000, ge=10, le=10_000_000)
    """The outbox's bound on undelivered events: beyond it the oldest are dropped, logged and counted."""
    outbox_max_age_days: float = Field(7.0, ge=0.01, le=3650)
    """Undelivered events older than this are dropped, logged and counted."""
    max_unwritten: int = Field(10_000, ge=10, le=1_000_000)
    """Events (reps, sets) kept in memory while the disk refuses them (full, read-only), written when it takes them
    again; beyond it the oldest are dropped, logged and counted. What is only in memory is lost with a SIGKILL or a
    power cut: the log, gym/stats, the page and `homegym status` say how many there are."""

    def path(self) -> Path:
        d = self.dir or os.environ.get("STATE_DIRECTORY", "").split(":")[0] or "~/.local/state/homegym"
        return Path(d).expanduser()


class LiveConfig(Section):
    """The live page of `homegym run`: picture, count, camera placement, health (docs/live-page.md)."""

    enabled: bool = False
    """Serve the page. Off in this reference; the config `homegym install-service` writes turns it on at 127.0.0.1."""
    host: str = "127.0.0.1"
    """The address to listen on: 127.0.0.1 (this box only; from elsewhere, ssh -L 8088:127.0.0.1:8088 box), or 0.0.0.0, ::
    or one of the box's addresses to let phones and displays on the network in, with the token."""
    port: int = Field(8088, ge=1, le=65535)
    """The TCP port."""
    token_file: str | None = None
    """The token a page from the network must show (the link's ?token=, printed in the log and by `homegym status`; a
    wrong one gets 401). null = live-token in state.dir, made at the first start (random, mode 0600). Not asked on
    a loopback address."""
    preview_fps: float = Field(5.0, ge=0.5, le=30)
    """Frames a second of the camera picture on the page. Encoded only while a page shows it: with nobody watching, no
    picture is kept or encoded."""
    jpeg_quality: int = Field(70, ge=10, le=100)
    """JPEG quality of that picture (higher: sharper and more bytes a frame)."""
    max_connections: int = Field(64, ge=4, le=1024)
    """Connections open at once (pages, displays, `homegym status`); one more is closed at once. Each page holds two."""
    header_timeout_s: float = Field(10.0, ge=1.0, le=120.0)
    """Seconds a new connection has to send its request's headers before it is closed (slow clients cannot hold it)."""

    @field_validator("host")
    @classmethod
    def _host(cls, v: str) -> str:
        if not (_is_ip(v) or HOSTNAME.fullmatch(v)):
            raise ValueError(f"expected an IP address or a host name (no scheme, no port), got {shorten(v)}")
        return v

    @property
    def loopback(self) -> bool:
        """Only this box can connect: no token is asked."""
        return is_loopback(self.host)


HOSTNAME = re.compile(r"(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,62}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}[A-Za-z0-9])?)*")


def _is_ip(v: str) -> bool:
    try:
        ipaddress.ip_address(v)
    except ValueError:
        return False
    return True


def is_loopback(host: str) -> bool:
    return host == "localhost" or (_is_ip(host) and ipaddress.ip_address(host).is_loopback)


class LoggingConfig(Section):
    """The daemon's log."""

    level: Literal["debug", "info", "warning", "error"] = "info"
    """The least severe messages logged. `homegym run --log-level` overrides it; a reload (SIGHUP) applies a change at once.
    Under systemd the lines go to the journal with their priority and no timestamp of ours."""


class Config(Section):
    """The whole file: every section optional, every key optional."""

    source: SourceConfig = Field(default_factory=SourceConfig)
    model: ModelConfig = Field(default_factory=ModelConfig)
    pipeline: PipelineConfig = Field(default_factory=PipelineConfig)
    pose: PoseConfig = Field(default_factory=PoseConfig)
    rest: RestConfig = Field(default_factory=RestConfig)
    voting: VotingConfig = Field(default_factory=VotingConfig)
    periodicity: PeriodicityConfig = Field(default_factory=PeriodicityConfig)
    counter: CounterConfig = Field(default_factory=CounterConfig)
    form: FormConfig = Field(default_factory=FormConfig)
    mqtt: MqttConfig = Field(default_factory=MqttConfig)
    state: StateConfig = Field(default_factory=StateConfig)
    live: LiveConfig = Field(default_factory=LiveConfig)
    logging: LoggingConfig = Field(default_factory=LoggingConfig)

    def with_values(self, section: str, **values: Any) -> Config:
        """A copy with some keys of one section changed, validated like a file (what tune and count use)."""
        data = self.model_dump()
        data[section] = {**data[section], **values}
        return parse(data, f"{section} override")


def _known(loc: tuple[Any, ...]) -> list[str]:
    """The keys of the section (or the file) an unknown key was found in."""
    if loc[:2] == ("voting", "per_label"):
        return list(LabelOverride.model_fields)
    if loc[:2] == ("counter", "per_exercise"):
        return list(ExerciseOverride.model_fields)
    if loc[:2] == ("form", "full"):
        return list(FullRange.model_fields)
    model: type[BaseModel] = Config
    for part in loc:
        factory = model.model_fields[part].default_factory if part in model.model_fields else None
        if not (isinstance(factory, type) and issubclass(factory, BaseModel)):
            return []
        model = factory
    return list(model.model_fields)


def _problem(err: Any) -> str:
    loc = ".".join(str(p) for p in err["loc"] if not str(p).startswith("function-after"))
    msg: str = err["msg"]
    kind = err["type"]
    if kind == "extra_forbidden":
        return f"{loc}: unknown {'key' if len(err['loc']) > 1 else 'section'} (known: {', '.join(_known(err['loc'][:-1]))})"
    if kind == "value_error":  # a cross-field rule: its message names the key it is about
        text = msg.removeprefix("Value error, ")
        key, _, rest = text.partition(": ")
        return f"{loc + '.' if loc else ''}{key}: {rest}" if rest else f"{loc}: {text}"
    return f"{loc}: {msg[0].lower() + msg[1:]}, got {shorten(err['input'])}"


def parse(data: Any, where: str = "config") -> Config:
    """Validate a loaded YAML document; raise ConfigError listing every problem, one line each."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError([f"expected a mapping of sections ({', '.join(Config.model_fields)}), got {type(data).__name__}"], where)
    data = {k: ({} if v is None else v) for k, v in data.items()}  # "voting:" with every key commented out
    try:
        return Config.model_validate(data)
    except ValidationError as e:
        raise ConfigError([_problem(err) for err in e.errors()], where) from None


def for_file(cfg: Config, video: Path | str) -> Config:
    """What ``homegym count`` (and ``eval``) run on: the file as the source, read as fast as the machine allows."""
    return cfg.with_values("source", uri=str(video), realtime=False)


def load(path: Path | None) -> Config:
    """Load and validate a config file (None: all defaults)."""
    if path is None:
        return Config()
    return parse(load_yaml(Path(path)), str(path))
