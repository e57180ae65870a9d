"""What the hub hands each SSE client: a job's state framed once for every client, and the
client's subscription, which writes those frames to its connection."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any, Literal

import attrs

from importer.model import TERMINAL

SEP = "\r\n"  # what aiohttp-sse writes, so that shared frames and its own sends look alike
# A comment line at least every 15 s (API.md) keeps proxies from closing a quiet stream; the hub
# writes one to every live stream that has been quiet this long (Hub.ping_idle).
PING_INTERVAL = 10.0
PING_FRAME = f": ping{SEP}{SEP}".encode()


def event_name(status: str) -> str:
    """The SSE `event:` of a job in this status."""
    return status if status in TERMINAL else "progress"


def frame(event_id: str, event: str, data: str) -> bytes:
    """One SSE event as aiohttp-sse's `send()` frames it; `data` is one line of JSON.

    Built once per notification and shared by every client (aiohttp-sse frames per call,
    which at 10,000 clients would mean 10,000 copies of each event).
    """
    return f"id: {event_id}{SEP}event: {event}{SEP}data: {data}{SEP}{SEP}".encode()


def chunk(data: bytes) -> bytes:
    """`data` as one chunk of HTTP/1.1 chunked transfer coding, as aiohttp frames a write."""
    return b"%x\r\n%b\r\n" % (len(data), data)


PING_CHUNK = chunk(PING_FRAME)


@attrs.frozen(kw_only=True)
class JobEvent:
    """One state of one job, parsed and serialised once, with its frames for both streams."""

    job_id: str
    user_id: str
    seq: int
    status: str
    data: str
    job_frame: bytes
    user_frame: bytes
    # The frames as HTTP/1.1 chunks: what is written to each client's transport (streams.Subscription).
    job_chunk: bytes
    user_chunk: bytes

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL

    @property
    def name(self) -> str:
        return event_name(self.status)

    @classmethod
    def from_job(cls, job: dict[str, Any], user_id: Any = None) -> JobEvent:
        """From a job object (as the trigger or import_job_json_v2 gives it); user_id is stripped."""
        job = dict(job)
        owner = job.pop("user_id", user_id)
        data = json.dumps(job, separators=(",", ":"), ensure_ascii=False, default=str)
        job_id, seq, status = str(job["id"]), int(job["seq"]), str(job["status"])
        name = event_name(status)
        job_frame, user_frame = frame(str(seq), name, data), frame(f"{job_id}:{seq}", name, data)
        return cls(job_id=job_id, user_id=str(owner), seq=seq, status=status, data=data,
                   job_frame=job_frame, user_frame=user_frame,
                   job_chunk=chunk(job_frame), user_chunk=chunk(user_frame))

    @classmethod
    def from_payload(cls, payload: str) -> JobEvent:
        return cls.from_job(json.loads(payload))


class Subscription:
    """One client's stream as the hub feeds it, in two phases.

    Held: from subscribing until the view has written the current state, events wait in a bounded
    queue (`get()` gives them, then None once the stream must end).

    Live: `start()` writes what is held and newer than what the client has seen, and from then on
    `deliver()` writes each newer event's shared frame straight to the client's transport, inside
    the hub's publish. A task woken through a queue per client per event cost 1,000 task steps
    per notification at 1,000 clients; a transport write is a fraction of that
    (figures in Hub.publish). `wait()` returns once the stream is to end:
    a job stream's terminal event written, the client dropped or gone, or the server stopping.

    A client that does not read is dropped, never waited for: held, when its queue is full; live,
    when more than `buffer_limit` bytes wait in the event loop for its socket (beyond what the
    kernel holds). It reconnects with Last-Event-ID and resumes where it was.
    """

    __slots__ = ("_buffer_limit", "_chunked", "_done", "_on_drop", "_seen", "_transport",
                 "closed", "dropped", "key", "kind", "last_write", "queue")

    def __init__(self, kind: Literal["job", "user"], key: str, maxsize: int, buffer_limit: int):
        self.kind = kind
        self.key = key
        self.queue: asyncio.Queue[JobEvent | None] = asyncio.Queue(maxsize)
        self.closed = False
        self.dropped = False
        self._on_drop: Callable[[], None] | None = None
        self._buffer_limit = buffer_limit
        self._transport: asyncio.WriteTransport | None = None
        self._chunked = True
        self._seen: dict[str, int] = {}  # job id -> the last seq the client has
        self._done: asyncio.Future[None] | None = None
        self.last_write = 0.0  # time.monotonic() of the last write, for the hub's pings

    @property
    def live(self) -> bool:
        return self._transport is not None

    def on_drop(self, callback: Callable[[], None]) -> None:
        """Called when the client is dropped for not keeping up (the view aborts its transport)."""
        self._on_drop = callback

    def deliver(self, event: JobEvent) -> None:
        if self.closed:
            return
        if self._transport is not None:
            self._write(event)
            return
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            self._drop()

    def start(self, transport: asyncio.WriteTransport, seen: dict[str, int], *, chunked: bool) -> None:
        """Go live on `transport`, the client having seen `seen` ({job id: seq}).

        The held events go out first, in order, skipping what the client has; then every event
        as the hub publishes it. `chunked`: the response uses chunked transfer coding (HTTP/1.1).
        """
        if self.closed:
            return
        self._transport, self._seen, self._chunked = transport, seen, chunked
        self.last_write = time.monotonic()
        while not self.closed and not self.queue.empty():
            event = self.queue.get_nowait()
            if event is not None:
                self._write(event)

    def _write(self, event: JobEvent) -> None:
        transport = self._transport
        assert transport is not None  # live
        if event.seq <= self._seen.get(event.job_id, 0):
            return  # already sent (the current state read after subscribing showed it)
        if transport.is_closing():
            self.close()  # the client left; the view's finally unsubscribes
            return
        if self.kind == "job":
            transport.write(event.job_chunk if self._chunked else event.job_frame)
        else:
            transport.write(event.user_chunk if self._chunked else event.user_frame)
        self._seen[event.job_id] = event.seq
        self.last_write = time.monotonic()
        if self.kind == "job" and event.terminal:
            self.close()  # a job stream ends after its terminal event
        elif transport.get_write_buffer_size() > self._buffer_limit:
            self._drop()

    def ping(self, now: float, interval: float) -> None:
        """A comment line, if the stream is live and nothing was written for `interval` seconds."""
        transport = self._transport
        if transport is None or self.closed or now - self.last_write < interval:
            return
        if transport.is_closing():
            self.close()  # the client left
            return
        transport.write(PING_CHUNK if self._chunked else PING_FRAME)
        self.last_write = now
        if transport.get_write_buffer_size() > self._buffer_limit:
            self._drop()

    def _drop(self) -> None:
        self.dropped = True
        self.close()
        if self._on_drop is not None:
            self._on_drop()

    def close(self) -> None:
        """End the stream: whatever is held is discarded, the reader gets None next, wait() returns."""
        if self.closed:
            return
        self.closed = True
        while not self.queue.empty():
            self.queue.get_nowait()
        self.queue.put_nowait(None)
        if self._done is not None and not self._done.done():
            self._done.set_result(None)

    async def get(self) -> JobEvent | None:
        return await self.queue.get()

    async def wait(self) -> None:
        """Until the stream is to end (see the class)."""
        if self.closed:
            return
        if self._done is None:
            self._done = asyncio.get_running_loop().create_future()
        await self._done
