"""The one place an event gets its ``seq``: the pipeline numbers each event once, through a ``Numbering``.

A run's own numbering counts every event from 1 (``homegym count``, ``eval``, a daemon without
MQTT). ``homegym run`` with MQTT numbers through the outbox (``delivery.outbox.Outbox.record``),
whose numbers only grow across restarts and which stores a published event as it numbers it.
"""

from __future__ import annotations

from typing import Protocol

from ..counting.events import Event


class Numbering(Protocol):
    def __call__(self, event: Event) -> Event:
        """The event with its ``seq`` (where it takes one)."""
        ...


class RunNumbering:
    """Every event of one run, numbered from 1 in the order the counter made them."""

    def __init__(self) -> None:
        self.last = 0

    def __call__(self, event: Event) -> Event:
        self.last += 1
        return event.numbered(self.last)
