"""The exercises HomeGym knows, each once: its name in words, where a rep starts and turns, and what the pose shows of it.

A rep starts at one end of the movement and turns at the other (../shared/data's ``rep_bottom_frames`` is the turn
point). Labels name positions, ``<exercise>_up`` and ``<exercise>_down``, so they read as what the person does: a
push-up turns at ``pushup_down``, a pull-up at ``pullup_up``. ``turn`` says which of the two is the turn point; the
counter works in roles (start, turn) and shows positions.

An exercise outside this table (a user's own, labelled by hand) turns at ``down``, the convention of the first two.
"""

from __future__ import annotations

from dataclasses import dataclass

START, TURN = "start", "turn"  # the roles of a rep's two ends
UP, DOWN = "up", "down"  # the positions labels name


@dataclass(frozen=True)
class Exercise:
    name: str
    words: str  # the plural, as a person says it: "Push-ups"
    turn: str  # the position of the turn point: "down" (push-up) or "up" (pull-up)
    joint: str  # the main joint: its angle drives the labels' sharpening (train/from_reps.py)
    posture: str  # the body's posture through a rep: plank, standing, lying or hanging

    @property
    def start(self) -> str:
        return DOWN if self.turn == UP else UP

    def position(self, role: str) -> str:
        """The position of a role: a pull-up turns ``up``."""
        return self.turn if role == TURN else self.start

    def label(self, role: str) -> str:
        """The label of a role: ``pullup``'s turn is ``pullup_up``."""
        return f"{self.name}_{self.position(role)}"


TABLE: dict[str, Exercise] = {e.name: e for e in (
    Exercise("pushup", "Push-ups", DOWN, "elbow", "plank"),
    Exercise("squat", "Squats", DOWN, "knee", "standing"),
    Exercise("lunge", "Lunges", DOWN, "knee", "standing"),
    Exercise("situp", "Sit-ups", UP, "hip", "lying"),
    Exercise("jumping_jack", "Jumping jacks", UP, "shoulder", "standing"),
    Exercise("pullup", "Pull-ups", UP, "elbow", "hanging"),
    Exercise("curl", "Curls", UP, "elbow", "standing"),
    Exercise("shoulder_press", "Shoulder presses", UP, "elbow", "standing"),
)}
EXERCISES = tuple(TABLE)


def of(name: str) -> Exercise:
    """The exercise called ``name``; one outside the table turns at ``down`` and is named by its own name."""
    return TABLE.get(name) or Exercise(name, name.replace("_", " ").capitalize(), DOWN, "", "")


def role_of(exercise: str, position: str) -> str:
    """The role (start or turn) of a label's position in a rep of ``exercise``."""
    return TURN if position == of(exercise).turn else START


def words(name: str | None) -> str:
    """An exercise's name in words ("Jumping jacks"); "" for None."""
    return of(name).words if name else ""
