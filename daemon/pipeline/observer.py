"""What the pipeline tells whoever runs it: one observer, every method optional.

``homegym count`` prints the events, ``--annotate`` draws the frames, ``homegym eval``
records the probabilities, and the service publishes, persists and notifies systemd;
each overrides only what it needs. All calls come from the pipeline's own thread.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..counting.counter import RepCounter
from ..counting.events import Event
from ..counting.voting import Vote
from ..pose.stage import Pose


@dataclass(frozen=True)
class FrameView:
    """One inferred frame after the chain: what an annotator or a recorder needs."""

    frame_id: int
    t: float  # seconds: the file's own clock, or since the start for a live source
    pixels: np.ndarray | None  # the model's input frame, where the observer asked for frames
    probs: np.ndarray  # the model's class probabilities
    feats: np.ndarray | None  # its pooled features (the periodicity's input), where the IR has them
    vote: Vote
    counter: RepCounter
    pose: Pose | None = None  # the pose stage's result, where it runs (pixels are then its canvas)


class Observer:
    wants_frames = False  # keep the frames' pixels for on_frame (a reference a frame); read every loop turn, may change

    def on_event(self, event: Event) -> None:
        """A rep, a partial rep or a set's end, in the order the counter made them."""

    def on_state(self, state: dict) -> None:
        """The phase or a count changed (the retained ``gym/state``)."""

    def on_frame(self, frame: FrameView) -> None:
        """Every inferred frame, after voting and counting."""

    def on_ready(self) -> None:
        """The model is compiled and the first frame is in."""

    def on_tick(self, now: float) -> None:
        """Every turn of the loop (at least every 50 ms): the service's watchdog and status line."""

    def on_stats(self, stats: dict) -> None:
        """Every ``stats_interval_s``: the health report."""


class Collect(Observer):
    """Keeps every event (``homegym bench``, tests)."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def on_event(self, event: Event) -> None:
        self.events.append(event)


class Fanout(Observer):
    """Several observers as one (``homegym count --annotate``: the printer and the annotator)."""

    def __init__(self, *observers: Observer) -> None:
        self.observers = observers

    @property
    def wants_frames(self) -> bool:  # type: ignore[override]
        return any(o.wants_frames for o in self.observers)

    def on_event(self, event: Event) -> None:
        for o in self.observers:
            o.on_event(event)

    def on_state(self, state: dict) -> None:
        for o in self.observers:
            o.on_state(state)

    def on_frame(self, frame: FrameView) -> None:
        for o in self.observers:
            o.on_frame(frame)

    def on_ready(self) -> None:
        for o in self.observers:
            o.on_ready()

    def on_tick(self, now: float) -> None:
        for o in self.observers:
            o.on_tick(now)

    def on_stats(self, stats: dict) -> None:
        for o in self.observers:
            o.on_stats(stats)
