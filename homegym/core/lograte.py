"""Log lines that anyone on the network (or with the broker's password) can cause, rate-limited.

A flood of bad requests or bad commands must not fill the journal: each kind of line (its logger and
its message template) passes at most once every ``every_s``, and the next that passes says how many were
held back. A traceback becomes one line: a malformed request is the client's fault, not ours to debug.
"""

from __future__ import annotations

import logging
import threading
import time

EVERY_S = 10.0


class RateLimit(logging.Filter):
    def __init__(self, every_s: float = EVERY_S) -> None:
        super().__init__()
        self.every_s = every_s
        self._last: dict[tuple[str, str], float] = {}
        self._held: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()  # the live page's thread and paho's both log through it

    def filter(self, record: logging.LogRecord) -> bool:
        key = (record.name, str(record.msg))
        now = time.monotonic()
        with self._lock:
            if now - self._last.get(key, -self.every_s) < self.every_s:
                self._held[key] = self._held.get(key, 0) + 1
                return False
            self._last[key] = now
            held = self._held.pop(key, 0)
            if len(self._last) > 1000:  # bounded: templates are few, but a logger may put a value in its message
                self._last.clear()
        text = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            text += f": {type(exc).__name__}: {str(exc)[:200]}"
        if held:
            text += f" (and {held} more like it in the last {self.every_s:.0f} s)"
        record.msg, record.args, record.exc_info, record.exc_text = text, (), None, None
        return True


def limited(name: str, every_s: float = EVERY_S) -> logging.Logger:
    """The logger ``name`` with a rate limit (a filter on a logger applies to its own records, not its children's)."""
    logger = logging.getLogger(name)
    if not any(isinstance(x, RateLimit) for x in logger.filters):
        logger.addFilter(RateLimit(every_s))
    return logger
