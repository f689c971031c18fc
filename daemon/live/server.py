"""The live page's web server: aiohttp on a thread and an event loop of its own, beside the pipeline.

Routes: ``/`` the page, ``/display`` the same page in display mode, ``/static/`` its files (package data, no build
step, nothing from the internet), ``/api/state`` everything but the picture as JSON, ``/events`` the same as
server-sent events whenever it changes, ``/video.mjpg`` the picture (MJPEG), ``/frame.jpg`` one picture,
``POST /api/sets/ID/delete`` forgets a set (the page's and ``homegym history delete``'s). Off
loopback every route but ``/static/`` wants the token (``?token=`` or ``Authorization: Bearer``); a wrong one gets
401. A frame is encoded once, in a worker thread, however many pages show it, and only while one does.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import threading
from pathlib import Path

from aiohttp import web

from homegym.core import lograte
from homegym.core.errors import UserError

from ..config.settings import LiveConfig
from .gate import Gate
from .view import LiveView, Preview

log = logging.getLogger(__name__)
for _name in ("aiohttp.server", "aiohttp.web", "aiohttp.access", "aiohttp.internal"):
    lograte.limited(_name)  # a flood of malformed requests: a line every few seconds, not a traceback each
PAGE = Path(__file__).parent / "page"
KEEPALIVE_S = 15.0  # an SSE comment this often, so proxies and phones keep the connection
MIN_EVENT_S = 0.1  # at most ten state events a second to a page
FIRST_FRAME_S = 3.0  # /frame.jpg waits this long for a frame
HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",  # the token is in the page's address
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
}


def bearer(header: str) -> str:
    """The token of an ``Authorization: Bearer TOKEN`` header (the scheme in any case, RFC 9110 11.1)."""
    scheme, _, token = header.strip().partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


class LiveServer:
    def __init__(self, cfg: LiveConfig, view: LiveView, token: str | None) -> None:
        self.cfg = cfg
        self.view = view
        self.token = token
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._started = threading.Event()
        self._error: str | None = None
        self._closing = False
        self._tick: asyncio.Event | None = None
        self._stopped: asyncio.Event | None = None
        self._jpeg_lock: asyncio.Lock | None = None
        self._jpeg: tuple[int, bytes] = (0, b"")
        self.gate: Gate | None = None

    # -- the pipeline's thread ---------------------------------------------------------------------

    def start(self) -> None:
        """Listen, or raise a UserError saying why not (the port taken, the address not this box's)."""
        self._thread = threading.Thread(target=self._run, name="live-page", daemon=True)
        self._thread.start()
        self._started.wait(30)
        if self._error:
            self._thread.join(5)
            raise UserError(self._error)

    def stop(self) -> None:
        """Close every page's connection and stop listening (a page reconnects once a server is back)."""
        loop = self._loop
        if loop is not None and self._thread is not None and self._thread.is_alive():
            try:
                loop.call_soon_threadsafe(self._begin_stop)
            except RuntimeError:
                pass  # the loop has just closed
            self._thread.join(5)
        self.view.on_change = None

    def _wake_threadsafe(self) -> None:
        loop = self._loop
        try:
            if loop is not None:
                loop.call_soon_threadsafe(self._wake)
        except RuntimeError:
            pass  # stopping: nobody to wake

    # -- the server's thread -----------------------------------------------------------------------

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._serve())
        except Exception as e:  # the server's thread must say why it ended, never die silently
            log.error("live page stopped: %s", e)
            self._error = self._error or f"live page: {e}"
            self._started.set()
        finally:
            self._loop = None
            loop.close()

    async def _serve(self) -> None:
        self._tick, self._stopped, self._jpeg_lock = asyncio.Event(), asyncio.Event(), asyncio.Lock()
        app = web.Application(middlewares=[self._guard])
        app.add_routes([web.get("/", self._page), web.get("/display", self._page), web.get("/api/state", self._state),
                        web.get("/events", self._events), web.get("/video.mjpg", self._video), web.get("/frame.jpg", self._frame),
                        web.post("/api/sets/{set_id}/delete", self._delete_set),
                        web.static("/static", PAGE)])
        runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
        await runner.setup()
        assert runner.server is not None
        self.gate = Gate(runner.server, self.cfg.max_connections, self.cfg.header_timeout_s)
        try:
            listening = await asyncio.get_running_loop().create_server(self.gate, self.cfg.host, self.cfg.port, reuse_address=True)
        except OSError as e:
            self._error = f"live.port: cannot listen on {self.cfg.host}:{self.cfg.port}: {e.strerror or e}"
            await runner.cleanup()
            self._started.set()
            return
        self.view.on_change = self._wake_threadsafe
        self._started.set()
        await self._stopped.wait()
        listening.close()
        await runner.cleanup()

    def _begin_stop(self) -> None:
        self._closing = True
        self._wake()
        assert self._stopped is not None
        self._stopped.set()

    def _wake(self) -> None:
        """Every waiting page goes on (one event set, a new one for the next change)."""
        tick, self._tick = self._tick, asyncio.Event()
        if tick is not None:
            tick.set()

    async def _wait(self, tick: asyncio.Event, timeout: float) -> None:
        try:
            await asyncio.wait_for(tick.wait(), timeout)
        except TimeoutError:
            pass

    @web.middleware
    async def _guard(self, request: web.Request, handler) -> web.StreamResponse:
        if self.token is not None and not request.path.startswith("/static/"):
            given = request.query.get("token") or bearer(request.headers.get("Authorization", ""))
            if not hmac.compare_digest(given.encode(), self.token.encode()):
                return web.Response(status=401, headers=HEADERS,
                                    text="401 Unauthorized: wrong or missing token. Open the link `homegym status` prints.\n")
        response = await handler(request)
        if not response.prepared:
            response.headers.update(HEADERS)
        return response

    async def _page(self, request: web.Request) -> web.StreamResponse:
        return web.FileResponse(PAGE / "index.html", headers={"Content-Type": "text/html; charset=utf-8"})

    async def _state(self, request: web.Request) -> web.StreamResponse:
        return web.json_response(self.view.snapshot())

    async def _stream(self, request: web.Request, content_type: str) -> web.StreamResponse:
        resp = web.StreamResponse(headers={**HEADERS, "Content-Type": content_type, "X-Accel-Buffering": "no"})
        await resp.prepare(request)
        return resp

    async def _events(self, request: web.Request) -> web.StreamResponse:
        """The page's state as server-sent events: at once, then on every change; ``retry`` makes a browser come
        back within a second of the daemon's return."""
        resp = await self._stream(request, "text/event-stream")
        self.view.attach(picture=False)
        try:
            await resp.write(b"retry: 1000\n\n")
            sent = -1
            while not self._closing:
                assert self._tick is not None
                tick = self._tick
                snap = self.view.snapshot()
                if snap["version"] != sent:
                    sent = snap["version"]
                    await resp.write(f"event: state\ndata: {json.dumps(snap, separators=(',', ':'))}\n\n".encode())
                    await asyncio.sleep(MIN_EVENT_S)
                    continue
                await self._wait(tick, KEEPALIVE_S)
                if tick is self._tick:  # nothing changed for a while
                    await resp.write(b": keep-alive\n\n")
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            self.view.detach(picture=False)
        return resp

    async def _delete_set(self, request: web.Request) -> web.StreamResponse:
        """Forget a set (POST: a wrong one, someone else's); the daemon's pipeline thread does it, the day's totals with it."""
        try:
            set_id = int(request.match_info["set_id"])
        except ValueError:
            return web.json_response({"error": "a set's id is a number"}, status=400)
        if self.view.delete_set is None:
            return web.json_response({"error": "no history on this daemon"}, status=503)
        future = self.view.delete_set(set_id)
        try:
            gone = await asyncio.wait_for(asyncio.wrap_future(future), 10)
        except TimeoutError:
            return web.json_response({"error": "the daemon did not answer in time"}, status=503)
        if gone is None:
            return web.json_response({"error": f"no set {set_id}"}, status=404)
        return web.json_response({"deleted": gone})

    async def _encoded(self, p: Preview) -> bytes:
        """The preview as JPEG, encoded once however many pages show it, off the event loop."""
        assert self._jpeg_lock is not None
        async with self._jpeg_lock:
            if self._jpeg[0] != p.seq:
                jpeg = await asyncio.get_running_loop().run_in_executor(None, p.jpeg, self.cfg.jpeg_quality)
                self._jpeg = (p.seq, jpeg)
            return self._jpeg[1]

    async def _video(self, request: web.Request) -> web.StreamResponse:
        resp = await self._stream(request, "multipart/x-mixed-replace; boundary=frame")
        self.view.attach(picture=True)
        try:
            sent = 0
            while not self._closing:
                assert self._tick is not None
                tick = self._tick
                p = self.view.preview()
                if p is not None and p.seq != sent:
                    sent = p.seq
                    jpeg = await self._encoded(p)
                    await resp.write(b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n%s\r\n" % (len(jpeg), jpeg))
                await self._wait(tick, KEEPALIVE_S)
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            self.view.detach(picture=True)
        return resp

    async def _frame(self, request: web.Request) -> web.StreamResponse:
        self.view.attach(picture=True)
        try:
            deadline = asyncio.get_running_loop().time() + FIRST_FRAME_S
            while (p := self.view.preview()) is None and not self._closing:
                remaining = deadline - asyncio.get_running_loop().time()
                if remaining <= 0:
                    return web.Response(status=503, text="no frame yet: is the source connected?\n")
                assert self._tick is not None
                await self._wait(self._tick, remaining)
            if p is None:
                return web.Response(status=503, text="stopping\n")
            return web.Response(body=await self._encoded(p), content_type="image/jpeg")
        finally:
            self.view.detach(picture=True)
