"""The live server's door: at most ``live.max_connections`` open at once, and a deadline for a request's headers.

aiohttp parses requests well but waits for headers as long as a client trickles them, and accepts every
connection: a slow or flooding client could hold every descriptor. Each connection's protocol (aiohttp's
request handler) is wrapped here, at the socket, before aiohttp sees a byte.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from homegym.core import lograte

noisy = lograte.limited(f"{__name__}.remote")


class Gate:
    """A protocol factory for ``loop.create_server``: wraps ``inner`` (aiohttp's server) with the two bounds."""

    def __init__(self, inner: Callable[[], asyncio.Protocol], max_connections: int, header_timeout_s: float) -> None:
        self.inner = inner
        self.max_connections = max_connections
        self.header_timeout_s = header_timeout_s
        self.open = 0
        self.refused = 0
        self.timed_out = 0

    def __call__(self) -> asyncio.Protocol:
        return _Guarded(self)


class _Guarded(asyncio.Protocol):
    def __init__(self, gate: Gate) -> None:
        self.gate = gate
        self.inner: asyncio.Protocol | None = None
        self.transport: asyncio.Transport | None = None
        self.deadline: asyncio.TimerHandle | None = None
        self.seen = b""  # the last bytes of the first request, until its headers end

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        gate = self.gate
        if gate.open >= gate.max_connections:
            gate.refused += 1
            noisy.warning("live page: a connection refused, %d open already (live.max_connections)", gate.open)
            transport.abort()
            return
        gate.open += 1
        self.deadline = asyncio.get_running_loop().call_later(gate.header_timeout_s, self._too_slow)
        self.inner = gate.inner()
        self.inner.connection_made(transport)

    def _too_slow(self) -> None:
        self.gate.timed_out += 1
        noisy.warning("live page: a connection closed, no request headers within %.0f s (live.header_timeout_s)",
                      self.gate.header_timeout_s)
        if self.transport is not None:
            self.transport.abort()

    def data_received(self, data: bytes) -> None:
        if self.deadline is not None:
            seen = self.seen + data
            if b"\r\n\r\n" in seen:
                self.deadline.cancel()
                self.deadline = None
            self.seen = seen[-3:]
        if self.inner is not None:
            self.inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self.inner.eof_received() if self.inner is not None else None

    def connection_lost(self, exc: Exception | None) -> None:
        if self.deadline is not None:
            self.deadline.cancel()
            self.deadline = None
        if self.inner is not None:
            self.gate.open -= 1
            self.inner.connection_lost(exc)
            self.inner = None

    def pause_writing(self) -> None:
        if self.inner is not None:
            self.inner.pause_writing()

    def resume_writing(self) -> None:
        if self.inner is not None:
            self.inner.resume_writing()
