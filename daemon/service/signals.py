"""Signals for ``homegym run``, handled from the process's first moments.

Installed before the heavy imports and the model's compile: until then a signal's default
action (SIGHUP's included) would kill the daemon. This module imports nothing of the
daemon's, nor logging or typing, so that the command can install it first, a few milliseconds in.
"""

from __future__ import annotations

import signal

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing

if TYPE_CHECKING:  # typing and logging cost milliseconds this module is imported to save
    from typing import Protocol

    class Controlled(Protocol):
        """What a signal asks of the daemon: flags its loop acts on (``service.Service`` has them)."""

        def request_stop(self) -> None: ...

        def request_reload(self) -> None: ...


class Signals:
    """SIGTERM, SIGINT and SIGHUP handled from the daemon's first moment, not from the end of its start-up:
    compiling the model takes a while, and a signal's default action (a reload's SIGHUP included) would kill
    the process. What arrives before the service exists is remembered and done once it does."""

    def __init__(self) -> None:
        self.service: Controlled | None = None
        self.stop_requested = False
        self.reload_requested = False
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._stop)
        signal.signal(signal.SIGHUP, self._reload)

    def _stop(self, *_: object) -> None:
        self.stop_requested = True
        if self.service is not None:
            self.service.request_stop()

    def _reload(self, *_: object) -> None:
        self.reload_requested = True
        if self.service is not None:
            self.service.request_reload()

    def attach(self, service: Controlled) -> None:
        self.service = service
        if self.reload_requested:
            import logging

            logging.getLogger(__name__).info("a reload was asked for while starting: the config is read again")
            service.request_reload()
        if self.stop_requested:
            service.request_stop()


_installed: Signals | None = None


def install() -> Signals:
    """The process's one ``Signals``, made at the first call (the command's first import, for ``homegym run``)."""
    global _installed
    if _installed is None:
        _installed = Signals()
    return _installed


def wanted_early(argv: list[str]) -> bool:
    """The command line is ``homegym [--log-level L] run ...``: the daemon, whose signals are handled from the start."""
    args = iter(argv[1:])
    for arg in args:
        if arg == "--log-level":
            next(args, None)
        elif not arg.startswith("-"):
            return arg == "run"
    return False
