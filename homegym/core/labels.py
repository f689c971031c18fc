"""The label vocabulary shared by train, convert and daemon (DESIGN.md, "Labels").

Labels are ``neither`` plus ``<exercise>_<phase>`` with phase ``up`` or ``down``;
a three-class set of bare ``up``/``down``/``neither`` is valid too, its exercise
named elsewhere (the daemon's config).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from .errors import UserError

NEITHER = "neither"
PHASES = ("up", "down")
_EXERCISE_LABEL = re.compile(r"^([a-z][a-z0-9]*(?:_[a-z0-9]+)*)_(up|down)$")  # jumping_jack_up: exercise jumping_jack


@dataclass(frozen=True)
class ParsedLabel:
    exercise: str | None  # None for ``neither`` and for three-class labels
    phase: str | None  # "up", "down" or None for ``neither``


def parse_label(label: str) -> ParsedLabel:
    """Split a label into exercise and phase; raise UserError for anything outside the vocabulary."""
    if label == NEITHER:
        return ParsedLabel(None, None)
    if label in PHASES:
        return ParsedLabel(None, label)
    m = _EXERCISE_LABEL.match(label)
    if not m:
        raise UserError(
            f"unknown label {label!r}: expected 'neither', 'up', 'down' or '<exercise>_up'/'<exercise>_down' "
            "(lower case, e.g. 'pushup_down')"
        )
    return ParsedLabel(m.group(1), m.group(2))


def order_labels(labels: Iterable[str]) -> tuple[str, ...]:
    """Canonical order: ``neither`` first, then per exercise (alphabetical) its up then down.

    Every label is validated; mixing three-class and exercise labels is refused because
    the counter could not tell which exercise a bare ``up`` belongs to.
    """
    parsed = {lab: parse_label(lab) for lab in labels}
    bare = sorted(lab for lab, p in parsed.items() if p.exercise is None and p.phase is not None)
    named = [lab for lab, p in parsed.items() if p.exercise is not None]
    if bare and named:
        raise UserError(f"labels mix three-class {bare} with exercise labels {sorted(named)[:3]}: use one style")
    exercises = sorted({p.exercise for p in parsed.values() if p.exercise})
    out = [NEITHER] if NEITHER in parsed else []
    owners: list[str | None] = list(exercises) or [None]
    for phase_owner in owners:
        for phase in PHASES:
            name = phase if phase_owner is None else f"{phase_owner}_{phase}"
            if name in parsed:
                out.append(name)
    return tuple(out)


@dataclass(frozen=True)
class LabelSet:
    """A model's labels with their meaning worked out once (from the IR), for every stage that indexes by it.

    ``exercise_of[i]`` and ``phase_of[i]`` say what label ``i`` means; a three-class model's bare
    up/down take the exercise the config names. The fold, the periodicity and the counter read this
    instead of parsing labels each on their own."""

    labels: tuple[str, ...]
    exercise_of: tuple[str | None, ...]
    phase_of: tuple[str | None, ...]

    @classmethod
    def of(cls, labels: tuple[str, ...] | list[str], bare_exercise: str | None = None) -> LabelSet:
        parsed = [parse_label(lab) for lab in labels]
        if any(p.phase and not p.exercise for p in parsed) and not bare_exercise:
            raise UserError("the model has three-class up/down labels: set counter.exercise in the config")
        return cls(tuple(labels), tuple((p.exercise or bare_exercise) if p.phase else None for p in parsed),
                   tuple(p.phase for p in parsed))

    @property
    def exercises(self) -> tuple[str, ...]:
        """The exercises it can count, in label order."""
        return tuple(dict.fromkeys(ex for ex in self.exercise_of if ex))

    def index(self, exercise: str, phase: str) -> int:
        """The label of ``exercise``'s ``phase`` (up or down)."""
        for i, (ex, ph) in enumerate(zip(self.exercise_of, self.phase_of)):
            if ex == exercise and ph == phase:
                return i
        raise KeyError(f"{exercise}_{phase}")

    def indices(self, phase: str | None) -> list[int]:
        """Every label of one phase (up, down; None: neither and the rest)."""
        return [i for i, ph in enumerate(self.phase_of) if ph == phase]

    def pairs(self) -> list[tuple[int, int]]:
        """(up, down) of each exercise that has both."""
        out = []
        for ex in self.exercises:
            try:
                out.append((self.index(ex, "up"), self.index(ex, "down")))
            except KeyError:
                continue
        return out
