"""How each counted rep went, from the pose stage's keypoints: its tempo, its range of motion, full or short.

The pose of every frame goes into a ring (a copy of the landmarks, nothing computed); when the counter is about to
count a rep, ``measure`` computes the body's fields (``core.body``) over that rep's frames only, so the cost is per rep,
not per frame. The rep's signal is its exercise's main angle (``ANGLE``): its extreme is the turn point,
and where the rep holds there (within ``HOLD_FRAC`` of the travel) the hold's middle is the turn. The start is where the
signal left its start value, the end where it came back (within ``LEAVE_FRAC`` of the travel). The counter's own span
(from its phases) only says which stretch of frames is the rep.

A joint seen with visibility under ``form.min_visibility`` is not measured: the rep's tempo and range are left out,
not guessed (not from a height either: a body the stage cannot see well is where its points jump), and the rep says
what was not seen.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from homegym.core import body
from homegym.core.pose_info import POSE_LANDMARKS

from ..config.settings import FormConfig, FullRange
from .events import Measured, Shortfall

CAPACITY = 2048  # frames of pose kept: 136 s at 15 inferred frames a second, longer than any counted rep
PAD_S = 0.6  # seconds searched beyond the counter's span for where the rep left its start and came back
HOLD_FRAC = 0.08  # within this share of the travel from the extreme, the rep is holding at its turn
LEAVE_FRAC = 0.1  # beyond this share of the travel from its start value, the rep has left the start
UNSEEN_AT_TURN = 3  # frames not seen at the turn from which the turn is not measured (one or two are a flicker)
MIN_TRAVEL = 10.0  # degrees: less is no movement to time
MEASURE_FIELD = {"elbow": "elbow", "knee": "knee", "hip": "hipang", "shoulder": "shoulder", "thigh": "thigh"}
JOINT_NAME = {"elbow": "elbow", "elbow_min": "elbow", "elbow_max": "elbow", "knee": "knee", "hipang": "hip", "shoulder": "shoulder"}
# Each exercise's angle: the labels' (core.body.SIGNALS), but for a press the straighter elbow of the two seen, as the
# bent one is for a curl: a single-arm or alternating press presses with one arm while the other rests bent.
ANGLE = {ex: signal for ex, (signal, _) in body.SIGNALS.items()} | {"shoulder_press": ("elbow_max", True)}


def _measured(joint: str | None = None, timing: _Timing | None = None, towards: float = 1.0, full: bool | None = None,
              short: tuple[Shortfall, ...] = (), unmeasured: str | None = None) -> Measured:
    """The rep event's measures, rounded as they are published (milliseconds, tenths of a degree)."""
    m: dict = {"joint": joint, "full": full, "unmeasured": unmeasured,
               "short": [s.model_copy(update={"value": round(s.value, 1)}) for s in short]}
    if timing is not None:
        m |= {"turn_t": round(timing.turn_t, 3), "to_turn_s": round(timing.to_turn_s, 3), "hold_s": round(timing.hold_s, 3),
              "back_s": round(timing.back_s, 3), "start_deg": round(towards * timing.start, 1),
              "turn_deg": round(towards * timing.turn, 1), "travel_deg": round(timing.turn - timing.start, 1)}
    return Measured(**m)


@dataclass
class _Span:
    """The rep's frames: times and fields, and the signal as depth (grows towards the turn)."""

    t: np.ndarray
    fields: dict[str, np.ndarray]
    depth: np.ndarray = field(default_factory=lambda: np.zeros(0))


class FormMeter:
    """The ring of recent poses and the rep measures made from it."""

    def __init__(self, cfg: FormConfig, capacity: int = CAPACITY) -> None:
        self.cfg = cfg
        self.capacity = capacity
        self._t = np.full(capacity, np.nan)
        self._lm = np.zeros((capacity, POSE_LANDMARKS, 4), np.float32)
        self._found = np.zeros(capacity, bool)
        self._n = 0  # frames written since the last reset

    def reset(self) -> None:
        """A new source: what the last one showed is not this rep's."""
        self._n = 0
        self._t[:] = np.nan

    def add(self, t: float, landmarks: np.ndarray | None) -> None:
        """One inferred frame's pose (33 x (x, y, z, visibility) on a square canvas), or None where nobody was found."""
        i = self._n % self.capacity
        self._t[i] = t
        self._found[i] = landmarks is not None
        if landmarks is not None:
            self._lm[i] = landmarks
        self._n += 1

    def _span(self, t0: float, t1: float) -> _Span | None:
        rows = np.nonzero((self._t >= t0) & (self._t <= t1) & self._found)[0]
        if len(rows) < 3:
            return None
        rows = rows[np.argsort(self._t[rows])]
        lm = self._lm[rows].astype(np.float64)
        return _Span(self._t[rows], body.fields_of(lm[..., :2], lm[..., 3], lm[..., 1]))

    def measure(self, exercise: str, start_t: float, end_t: float, now: float) -> Measured:
        """The rep the counter timed from ``start_t`` to ``end_t`` (it decides at ``now``)."""
        if exercise not in ANGLE:
            return _measured(unmeasured="no measures for this exercise")
        span = self._span(start_t - PAD_S, min(now, end_t + PAD_S))
        if span is None:
            return _measured(unmeasured="nobody seen (the pose stage is off, or lost the person)")
        angle, grows = ANGLE[exercise]
        inside = (span.t >= start_t) & (span.t <= end_t)
        seen = self._seen(span.fields, angle)
        joint = JOINT_NAME[angle]
        if not inside.any() or seen[inside].mean() < 0.5:
            return _measured(joint, unmeasured=f"{joint} not seen (visibility under {self.cfg.min_visibility:g})")
        towards = 1.0 if grows else -1.0
        span.depth = _median3(towards * np.where(seen, span.fields[angle], np.nan))
        timing = _timing(span, inside, MIN_TRAVEL)
        if isinstance(timing, _Still):
            return _measured(joint, unmeasured=f"no {joint} movement found").model_copy(update={"travel_deg": round(timing.travel, 1)})
        if isinstance(timing, str):
            return _measured(joint, unmeasured=timing.format(joint=joint))
        full, short, missing = self._judge(exercise, span, timing.hold)
        return _measured(joint, timing, towards, full, short, "; ".join(missing) or None)

    def travel(self, angle: str, start_t: float, end_t: float) -> float | None:
        """How far ``angle`` (a ``core.body`` angle) moved between ``start_t`` and ``end_t``: its range over the frames
        it was seen in, with a three-frame median against one frame's jump; None where it was seen on fewer than three."""
        span = self._span(start_t, end_t)
        if span is None:
            return None
        seen = self._seen(span.fields, angle)
        if seen.sum() < 3:
            return None
        values = _median3(np.where(seen, span.fields[angle], np.nan))
        return float(np.nanmax(values) - np.nanmin(values))

    def _seen(self, fields: dict[str, np.ndarray], angle: str) -> np.ndarray:
        return np.isfinite(fields[angle]) & (fields[body.GRADE[angle]] >= self.cfg.min_visibility)

    def _judge(self, exercise: str, span: _Span, hold: np.ndarray) -> tuple[bool | None, tuple[Shortfall, ...], list[str]]:
        """The thresholds of form.full at the turn: the best each measure reached over the hold (a frame either side)."""
        limits: FullRange | None = self.cfg.full.get(exercise)
        checks = limits.checks() if limits is not None else []
        if not checks:
            return True, (), []
        lo, hi = max(0, int(hold.min()) - 1), min(len(span.t), int(hold.max()) + 2)
        short: list[Shortfall] = []
        missing: list[str] = []
        angle = ANGLE[exercise][0]
        for key, measure, bound, limit in checks:
            name = angle if measure == "elbow" and angle.startswith("elbow") else MEASURE_FIELD[measure]
            seen = self._seen(span.fields, name)[lo:hi]
            if not seen.any():
                missing.append(f"{measure} not seen at the turn")
                continue
            vals = span.fields[name][lo:hi][seen]
            best = float(vals.min() if bound == "max" else vals.max())
            if (best > limit) if bound == "max" else (best < limit):
                short.append(Shortfall(key=key, value=best, limit=limit))
        full = None if missing and not short else not short
        return full, tuple(short), missing


def _median3(x: np.ndarray) -> np.ndarray:
    """A three-frame median of the frames seen: one frame's jump is not the turn. NaN (not seen) stays NaN."""
    if len(x) < 3:
        return x
    three = np.sort(np.stack([np.r_[x[:1], x[:-1]], x, np.r_[x[1:], x[-1:]]]), axis=0)  # NaN sorts last
    seen = np.isfinite(three).sum(0)
    out = np.where(seen == 3, three[1], np.where(seen == 2, (three[0] + three[1]) / 2, three[0]))
    return np.where(np.isfinite(x), out, np.nan)


@dataclass(frozen=True)
class _Timing:
    turn_t: float
    to_turn_s: float
    hold_s: float
    back_s: float
    start: float  # the signal's start and turn values (as depth)
    turn: float
    hold: np.ndarray  # the hold's rows


@dataclass(frozen=True)
class _Still:
    """The rep's joint was seen and moved less than MIN_TRAVEL: nothing to time, but how little it moved is known."""

    travel: float


def _cross(t: np.ndarray, d: np.ndarray, i: int, j: int, level: float) -> float:
    """When the signal crossed ``level`` between samples ``i`` and ``j`` (linear between them; ``t[i]`` where it cannot
    tell): a turn timed to a fraction of a frame."""
    if not (0 <= j < len(d)) or not (np.isfinite(d[i]) and np.isfinite(d[j])) or d[i] == d[j]:
        return float(t[i])
    f = min(1.0, max(0.0, (level - d[i]) / (d[j] - d[i])))
    return float(t[i] + f * (t[j] - t[i]))


def _timing(span: _Span, inside: np.ndarray, min_travel: float) -> _Timing | _Still | str:
    """The rep's turn (the middle of its hold), its tempo and its start and turn values; or why there are none.

    The way there is timed from leaving the start (beyond LEAVE_FRAC of the travel) to reaching the hold (within
    HOLD_FRAC of the extreme), and stretched to the whole travel as if the speed were steady; the hold loses the
    bits of the way there and back it took in."""
    d, t = span.depth, span.t
    core = np.nonzero(inside & np.isfinite(d))[0]
    i_turn = int(core[np.argmax(d[core])])
    peak = d[i_turn]
    start_v, end_v = float(np.nanmin(d[: i_turn + 1])), float(np.nanmin(d[i_turn:]))
    travel = peak - start_v
    if travel < min_travel:
        return _Still(travel)
    held_at = peak - HOLD_FRAC * travel
    a = b = i_turn
    while a > 0 and (d[a - 1] >= held_at or not np.isfinite(d[a - 1])):
        a -= 1
    while b < len(d) - 1 and (d[b + 1] >= held_at or not np.isfinite(d[b + 1])):
        b += 1
    if (~np.isfinite(d[a:b + 1])).sum() >= UNSEEN_AT_TURN:
        return "{joint} not seen at the turn"  # the extreme may lie in the frames not seen
    while not np.isfinite(d[a]):
        a += 1
    while not np.isfinite(d[b]):
        b -= 1
    s = a
    while s > 0 and not d[s] <= start_v + LEAVE_FRAC * travel:
        s -= 1
    e = b
    while e < len(d) - 1 and not d[e] <= end_v + LEAVE_FRAC * (peak - end_v):
        e += 1
    hold_from, hold_to = _cross(t, d, a, a - 1, held_at), _cross(t, d, b, b + 1, held_at)
    left, back = _cross(t, d, s, s + 1, start_v + LEAVE_FRAC * travel), _cross(t, d, e, e - 1, end_v + LEAVE_FRAC * (peak - end_v))
    way = 1.0 - HOLD_FRAC - LEAVE_FRAC
    to_turn, back_s = (hold_from - left) / way, (back - hold_to) / way
    hold = max(0.0, hold_to - hold_from - HOLD_FRAC * (to_turn + back_s))
    return _Timing((hold_from + hold_to) / 2, to_turn, hold, back_s, start_v, float(peak), np.arange(a, b + 1))
