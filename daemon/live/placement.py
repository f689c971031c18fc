"""Is the camera placed so that it counts well? Plain sentences a person beside the mat can act on.

From the pose stage's result (the landmarks and the world landmarks), where the frame lies on the canvas,
and the picture's brightness: is anybody in view, is the whole body in frame (head, hands, feet: the
landmark model places a part the frame cuts off past its edge, with a low visibility; a part hidden
behind the body keeps its place inside, so position alone decides), is the view one that counts push-ups well
(side on or at an angle, not head-on; DESIGN.md and the model card: front views are the weak spot),
and is it too dark. A hint shows once it held for most of the last few checks, so a single frame
never makes the page flicker.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from homegym.core.keypoint_features import L_HIP, L_SH, R_HIP, R_SH, upright
from homegym.core.letterbox import Box

from ..pose.stage import Pose

MARGIN = 0.01  # of the frame: a landmark this far past an edge is out of frame
DARK = 50.0  # mean luma (0..255) of the frame under which the picture is too dark to track well
HEAD_ON = 0.85  # |cos| of the shoulder line's angle to the picture plane over which a view is head-on (within ~30 degrees)
LYING = 0.5  # torso uprightness (3D) under which the person is in a plank, so a push-up view is judged
HISTORY = 4  # checks a hint must have held in for most of, to show (checks run every CHECK_S)
CHECK_S = 0.5

PARTS = {"head": range(0, 11), "hands": (15, 16), "feet": range(27, 33)}


@dataclass(frozen=True)
class Hint:
    """One sentence about the placement; ``ok`` when nothing needs doing."""

    code: str  # nobody, cut_<parts>, head_on, dark, ok
    text: str
    ok: bool = False

    def to_dict(self) -> dict:
        return {"code": self.code, "text": self.text, "ok": self.ok}


ALL_SET = Hint("ok", "All set: the camera sees your whole body.", ok=True)
NOBODY = Hint("nobody", "Nobody in view: step onto the mat where the camera sees you.")
DARK_HINT = Hint("dark", "It is too dark to see you well: turn on a light, or turn the camera away from a bright window.")
HEAD_ON_HINT = Hint("head_on", "For push-ups, put the camera at your side or at an angle: it sees you head-on now.")
NO_POSE = Hint("no_pose", "Placement checks need the pose stage: set pose.enabled: true (the default model has it on).")


def brightness(pixels: np.ndarray, box: Box | None) -> float:
    """Mean luma of the frame's part of the picture, from every 8th pixel (cheap enough for every preview frame)."""
    if box is not None:
        pixels = pixels[box.y: box.y + box.h, box.x: box.x + box.w]
    sample = pixels[::8, ::8].reshape(-1, 3).astype(np.float32)
    return float((sample @ np.array([0.114, 0.587, 0.299], np.float32)).mean()) if len(sample) else 0.0


def _cut(part: str, below: bool, above: bool) -> Hint:
    how = " or tilt it down" if below and not above else " or tilt it up" if above and not below else ""
    return Hint(f"cut_{part.replace(' and ', '_')}", f"Move the camera back{how}: your {part} {'are' if part != 'head' else 'is'} "
                "out of frame.")


def cut_off(pose: Pose, box: Box | None, canvas: int) -> Hint | None:
    """The body parts outside the frame as one sentence; None when the whole body is in."""
    xy = pose.landmarks[:, :2]
    if box is not None:  # canvas-normalised to frame-normalised
        xy = (xy * canvas - np.array([box.x, box.y], np.float32)) / np.array([box.w, box.h], np.float32)
    out = (xy < -MARGIN) | (xy > 1 + MARGIN)
    missing, below, above = [], False, False
    for part, idx in PARTS.items():
        i = list(idx)
        gone = out[i].any(axis=1)
        if gone.mean() > 0.5:
            missing.append(part)
            below |= bool((xy[i, 1] > 1 + MARGIN).any())
            above |= bool((xy[i, 1] < -MARGIN).any())
    if not missing:
        return None
    return _cut(" and ".join(missing) if len(missing) < 3 else "head, hands and feet", below, above)


def head_on(pose: Pose) -> bool:
    """In a plank, facing the camera (or away from it): the shoulder line lies across the picture, not along its depth."""
    w = pose.world
    if upright(0.5 * (w[L_SH] + w[R_SH]), 0.5 * (w[L_HIP] + w[R_HIP])) >= LYING:
        return False  # standing: squats count from the front as well as from the side
    line = w[L_SH] - w[R_SH]
    across = float(np.hypot(line[0], line[2]))
    return across > 1e-6 and abs(float(line[0])) / across > HEAD_ON


class Placement:
    """The hints of the last few checks, debounced; one check every CHECK_S of the source's time."""

    def __init__(self) -> None:
        self._history: deque[tuple[Hint, ...]] = deque(maxlen=HISTORY)
        self._next_t: float | None = None
        self.hints: tuple[Hint, ...] = ()

    def due(self, t: float) -> bool:
        return self._next_t is None or t >= self._next_t or t < self._next_t - 2 * CHECK_S  # a new source restarts its clock

    def check(self, t: float, pose: Pose | None, box: Box | None, canvas: int, luma: float | None) -> tuple[Hint, ...]:
        """This check's hints; returns the debounced ones (also kept in ``hints``)."""
        self._next_t = t + CHECK_S
        now: list[Hint] = []
        if luma is not None and luma < DARK:
            now.append(DARK_HINT)
        if pose is None:
            now.append(NO_POSE)
        elif not pose.found:
            now.append(NOBODY)
        else:
            cut = cut_off(pose, box, canvas)
            if cut is not None:
                now.append(cut)
            if head_on(pose):
                now.append(HEAD_ON_HINT)
        self._history.append(tuple(now) or (ALL_SET,))
        counts: dict[Hint, int] = {}
        for hints in self._history:
            for h in hints:
                counts[h] = counts.get(h, 0) + 1
        need = len(self._history) // 2 + 1
        shown = tuple(h for h in counts if counts[h] >= need and not h.ok)
        self.hints = shown or ((ALL_SET,) if counts.get(ALL_SET, 0) >= need else self.hints or (ALL_SET,))
        return self.hints

    def reset(self) -> None:
        self._history.clear()
        self._next_t = None
