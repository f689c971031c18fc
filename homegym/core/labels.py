"""The label vocabulary shared by train, convert and daemon (DESIGN.md, "Labels").

Labels are ``neither`` plus ``<exercise>_<phase>`` with phase ``up`` or ``down``;
a three-class set of bare ``up``/``down``/``neither`` is valid too, its exercise
named elsewhere (the daemon's config).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from . import exercises
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

    ``exercise_of[i]`` and ``phase_of[i]`` say what label ``i`` means: its exercise and its position (up, down);
    ``role_of[i]`` is that position's role in a rep (start or turn: ``core.exercises``). A three-class model's bare
    up/down take the exercise the config names. The fold, the periodicity and the counter read this instead of
    parsing labels each on their own."""

    labels: tuple[str, ...]
    exercise_of: tuple[str | None, ...]
    phase_of: tuple[str | None, ...]
    role_of: tuple[str | None, ...]

    @classmethod
    def of(cls, labels: tuple[str, ...] | list[str], bare_exercise: str | None = None) -> LabelSet:
        """The labels' meaning; a UserError where an exercise lacks its start or its turn (the counter could not
        count it) or where three-class labels have no exercise to belong to."""
        parsed = [parse_label(lab) for lab in labels]
        if any(p.phase and not p.exercise for p in parsed) and not bare_exercise:
            raise UserError("the model has three-class up/down labels: set counter.exercise in the config")
        exercise_of = tuple((p.exercise or bare_exercise) if p.phase else None for p in parsed)
        phase_of = tuple(p.phase for p in parsed)
        role_of = tuple(exercises.role_of(ex, ph) if ex and ph else None for ex, ph in zip(exercise_of, phase_of))
        if not any(role_of):
            raise UserError(f"the model's labels {list(labels)} name no exercise phase: there is nothing to count")
        for ex in dict.fromkeys(e for e in exercise_of if e):
            have = {r for e, r in zip(exercise_of, role_of) if e == ex}
            if have != {exercises.START, exercises.TURN}:
                lacking = exercises.of(ex).label(exercises.TURN if exercises.START in have else exercises.START)
                raise UserError(f"the model's labels have no {lacking}: the counter needs each exercise's start and "
                                f"turn ({', '.join(lab for lab in labels if lab != NEITHER)})")
        return cls(tuple(labels), exercise_of, phase_of, role_of)

    @property
    def exercises(self) -> tuple[str, ...]:
        """The exercises it can count, in label order."""
        return tuple(dict.fromkeys(ex for ex in self.exercise_of if ex))

    def index(self, exercise: str, role: str) -> int:
        """The label of ``exercise``'s ``role`` (start or turn)."""
        for i, (ex, r) in enumerate(zip(self.exercise_of, self.role_of)):
            if ex == exercise and r == role:
                return i
        raise KeyError(f"{exercise} {role}")

    def indices(self, role: str | None) -> list[int]:
        """Every label of one role (start, turn; None: neither and the rest)."""
        return [i for i, r in enumerate(self.role_of) if r == role]

    def pairs(self) -> list[tuple[int, int]]:
        """(start, turn) of each exercise."""
        return [(self.index(ex, exercises.START), self.index(ex, exercises.TURN)) for ex in self.exercises]
