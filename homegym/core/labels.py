"""The label vocabulary shared by train, convert and daemon (DESIGN.md, "Labels").

Labels are ``neither`` plus ``<exercise>_<phase>`` with phase ``up`` or ``down``;
a seed-style set of bare ``up``/``down``/``neither`` is valid too, its exercise
named elsewhere (the daemon's config).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import UserError

NEITHER = "neither"
PHASES = ("up", "down")
SEED_LABELS = ("neither", "up", "down")
_EXERCISE_LABEL = re.compile(r"^([a-z][a-z0-9]*)_(up|down)$")


@dataclass(frozen=True)
class ParsedLabel:
    exercise: str | None  # None for ``neither`` and for seed-style labels
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


def is_seed_style(labels: list[str] | tuple[str, ...]) -> bool:
    return all(parse_label(lab).exercise is None for lab in labels)


def order_labels(labels: set[str] | list[str]) -> tuple[str, ...]:
    """Canonical order: ``neither`` first, then per exercise (alphabetical) its up then down.

    Every label is validated; mixing seed-style and exercise labels is refused because
    the counter could not tell which exercise a bare ``up`` belongs to.
    """
    parsed = {lab: parse_label(lab) for lab in labels}
    bare = sorted(lab for lab, p in parsed.items() if p.exercise is None and p.phase is not None)
    named = [lab for lab, p in parsed.items() if p.exercise is not None]
    if bare and named:
        raise UserError(f"labels mix seed-style {bare} with exercise labels {sorted(named)[:3]}: use one style")
    exercises = sorted({p.exercise for p in parsed.values() if p.exercise})
    out = [NEITHER] if NEITHER in parsed else []
    for phase_owner in exercises or [None]:
        for phase in PHASES:
            name = phase if phase_owner is None else f"{phase_owner}_{phase}"
            if name in parsed:
                out.append(name)
    return tuple(out)


def exercises_of(labels: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """The exercises a label set can count, in order; empty for a seed-style set."""
    seen: list[str] = []
    for lab in labels:
        ex = parse_label(lab).exercise
        if ex and ex not in seen:
            seen.append(ex)
    return tuple(seen)
