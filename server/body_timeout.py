"""Request bodies that stop coming or only trickle are cut off: 408 `request_timeout`, connection closed.

aiohttp waits for a body's next byte forever, so one client sending a byte a second holds a
connection (a file descriptor, an upload's buffer, a slot) for as long as it likes. Every body
is read through the request's StreamReader, whichever view reads it and however (raw, multipart,
JSON): one watch per request on that reader covers them all. The reader's waiting call raises,
and the error middleware answers RequestTimeout as JSON, then closes the connection.
"""

from __future__ import annotations

import asyncio
import logging

import attrs
from aiohttp import web
from aiohttp.streams import StreamReader
from aiohttp.typedefs import Handler, Middleware

from importer.errors import RequestTimeout

log = logging.getLogger(__name__)


class BodyTimedOut(TimeoutError):
    """What the body's reader raises once cut off; the middleware answers it as RequestTimeout.

    A TimeoutError, because aiohttp reads a body the handler left unread before it closes the
    connection, and takes a TimeoutError there for what it is (a 408 already answered), where it
    would log any other exception as unhandled.
    """


#: How often the watch looks at a body, in seconds (at most; shorter for short limits).
TICK = 1.0


@attrs.frozen(kw_only=True)
class BodyPace:
    """The slowest body accepted.

    `idle_seconds`: the longest wait for the next byte. `min_rate`: bytes per second the body
    must average once the client has had `idle_seconds` to get going. Only time the server
    spends waiting on the client counts: while received bytes wait unread (the handler is busy,
    or the transport is paused by flow control) the clock stands still.
    """

    idle_seconds: float = 30.0
    min_rate: int = 4096

    def error(self) -> RequestTimeout:
        params = {"idle": f"{self.idle_seconds:g}", "rate": self.min_rate}
        return RequestTimeout.of("api.request_timeout", params=params,
                                 details={"idle_seconds": self.idle_seconds, "min_bytes_per_second": self.min_rate})


class _Watch:
    """Looks at one request's body every tick until it has all come, or cuts it off."""

    def __init__(self, content: StreamReader, pace: BodyPace, request: web.Request):
        self._content = content
        self._pace = pace
        self._request = request
        self._loop = asyncio.get_running_loop()
        self._tick = min(TICK, pace.idle_seconds / 4)
        self._seen = content.total_bytes
        self._waited = 0.0  # seconds the server waited on the client
        self._idle = 0.0  # of which since the last byte
        self._handle: asyncio.TimerHandle | None = self._loop.call_later(self._tick, self._check)

    def stop(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def _check(self) -> None:
        self._handle = None
        content = self._content
        if content.is_eof() or content.exception() is not None:
            return  # all of it came (or the connection ended): nothing left to wait for
        total = content.total_bytes
        came, self._seen = total > self._seen, total
        # Bytes received but not yet read: the server is the one behind, not the client.
        # (`_size`, the unread bytes, has no public name; it is the reader's own count.)
        if content._size > 0:
            self._idle = 0.0
        else:
            self._waited += self._tick
            self._idle = 0.0 if came else self._idle + self._tick
        pace = self._pace
        if self._idle >= pace.idle_seconds or (
                self._waited >= pace.idle_seconds and total < pace.min_rate * self._waited):
            log.warning("request body cut off on %s %s: %d bytes in %.0f s of waiting, none for %.0f s",
                        self._request.method, self._request.path, total, self._waited, self._idle)
            content.set_exception(BodyTimedOut())
            return
        self._handle = self._loop.call_later(self._tick, self._check)


def middleware(pace: BodyPace) -> Middleware:
    """A middleware watching every request body at `pace` (place it inside the error middleware)."""

    @web.middleware
    async def body_timeout(request: web.Request, handler: Handler) -> web.StreamResponse:
        content = request.content
        if not request.body_exists or content.is_eof():
            return await handler(request)
        watch = _Watch(content, pace, request)
        try:
            return await handler(request)
        except BodyTimedOut as exc:
            raise pace.error() from exc
        finally:
            watch.stop()

    return body_timeout
