"""The progress streams: one job's (`/api/imports/{job_id}/events`) and all of a user's (`/api/events`)."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import AsyncIterator
from uuid import UUID

from aiohttp import web
from aiohttp.http import StreamWriter
from aiohttp_sse import EventSourceResponse, sse_response

from importer.db import as_session, as_user
from importer.errors import NotFound
from importer.jobs import lifecycle
from importer.queries import q
from server import keys
from server.hub import HUB, Hub
from server.stream_slots import STREAM_SLOTS
from server.streams import PING_INTERVAL as PING_INTERVAL  # these streams' comment-line interval
from server.streams import JobEvent, Subscription

RETRY_MS = 2000  # how long a browser waits before reconnecting
# The hub pings live streams (Hub.ping_idle); aiohttp-sse's ping task per client only sleeps.
OWN_PINGS = 24 * 3600.0
SEND_TIMEOUT = 30.0  # a write that cannot finish in this long means a dead or stalled peer
RETRY_FRAME = f"retry: {RETRY_MS}\r\n\r\n".encode()
# A fixed kernel send buffer instead of autotuning up to megabytes: a stream needs little, a
# client that stops reading then costs at most this much kernel memory, and what waits for it in
# the event loop passes the hub's BUFFER_LIMIT (and it is dropped) after seconds rather than after
# megabytes of events.
SEND_BUFFER = 64 * 1024


@contextlib.asynccontextmanager
async def _stream(request: web.Request, sub: Subscription) -> AsyncIterator[EventSourceResponse]:
    sock = request.transport.get_extra_info("socket") if request.transport else None
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER)
    async with sse_response(request, ping_interval=OWN_PINGS,
                            send_timeout=SEND_TIMEOUT) as resp:

        def drop() -> None:
            # The client cannot keep up: cut it off at once (a blocked write ends with it); it
            # reconnects with Last-Event-ID and resumes where it was.
            resp.stop_streaming()
            if request.transport is not None:
                request.transport.abort()

        sub.on_drop(drop)
        try:
            await resp.write(RETRY_FRAME)
            yield resp
        except (ConnectionError, TimeoutError):
            pass  # the client went away or stalled; it reconnects and resumes


async def _live(request: web.Request, resp: EventSourceResponse, sub: Subscription, seen: dict[str, int]) -> None:
    """From here on the hub writes each event to the client itself (Subscription.start); wait for the end.

    No timer per write (it costs more than the write at 10,000 clients): a client that stops
    reading is dropped by the hub once its buffer fills, and the kernel aborts a connection whose
    data stays unacknowledged for SEND_TIMEOUT (aiohttp-sse sets TCP_USER_TIMEOUT from it).
    """
    writer = await resp.prepare(request)  # already prepared: gives its writer
    if request.transport is None or request.transport.is_closing():
        return
    sub.start(request.transport, seen, chunked=isinstance(writer, StreamWriter) and writer.chunked)
    await sub.wait()


def _job_id(request: web.Request) -> UUID:
    try:
        return UUID(request.match_info["job_id"])
    except ValueError:
        raise NotFound.of("api.no_job") from None


def _seq(header: str | None) -> int:
    """Last-Event-ID of a job stream: its seq (`<job id>:<seq>`, as /api/events sends, works too)."""
    try:
        return max(int((header or "0").rpartition(":")[2]), 0)
    except ValueError:
        return 0


async def job_events(request: web.Request) -> web.StreamResponse:
    """GET /api/imports/{job_id}/events: 200 text/event-stream, the job's current state, then each
    change (`id:` its seq), until its terminal event ends the stream.

    204 when `Last-Event-ID` shows the client has seen the job's terminal event (so an
    EventSource stops reconnecting). 404 `not_found` for no such job, another user's, or a job_id
    that is not a UUID; 401 without a token (header or `access_token` query parameter); 429
    `too_many_streams` (the user holds IMPORTER_MAX_STREAMS_PER_USER streams on this process) and
    503 `server_busy` (the process holds all it can), both with `Retry-After`; 503
    `database_unavailable`. Errors come as JSON, before the stream starts. An operator follows
    every user's job (the stream is a read of the job object, like GET /api/imports/{job_id}).
    """
    hub = request.app[HUB]
    user_id = request[keys.CLAIMS].user_id
    job_id = _job_id(request)
    seen = _seq(request.headers.get("Last-Event-ID"))
    # Admitted before anything is taken (a subscription, a pooled connection, a stream); the
    # slot is given back however the stream ends.
    with request.app[STREAM_SLOTS].hold(user_id):
        return await _job_stream(request, hub, user_id, job_id, seen)


async def _job_stream(request: web.Request, hub: Hub, user_id: UUID, job_id: UUID, seen: int
                      ) -> web.StreamResponse:
    # Subscribe before reading: a change committed after the read is then certainly queued,
    # and seq tells a change from what the read already showed, in whichever order they come.
    sub = hub.subscribe_job(job_id)
    try:
        async with as_session(request.app[keys.POOL], user_id,
                              operator=request[keys.CLAIMS].is_operator) as conn:
            job = await lifecycle.get_on(conn, job_id)
        if job is None:
            raise NotFound.of("api.no_job")
        first = JobEvent.from_job(job.data, user_id=user_id)
        if first.terminal and first.seq <= seen:
            # Already seen to its end. 204 is what tells an EventSource not to reconnect.
            return web.Response(status=204)
        async with _stream(request, sub) as resp:
            if first.seq > seen:
                await resp.send(first.data, id=str(first.seq), event=first.name)
                seen = first.seq
                if first.terminal:
                    return resp
            await _live(request, resp, sub, {first.job_id: seen})
        return resp
    finally:
        hub.unsubscribe(sub)


def _last_seen(header: str | None) -> dict[str, int]:
    """Last-Event-ID of /api/events, `<job id>:<seq>`, as {job id: seq}."""
    job, _, seq = (header or "").rpartition(":")
    try:
        return {str(UUID(job)): int(seq)}
    except ValueError:
        return {}


async def user_events(request: web.Request) -> web.StreamResponse:
    """GET /api/events: 200 text/event-stream, the user's active jobs and those finished in the
    last day (the newest 100; `id:` `<job id>:<seq>`), then every change of any of the user's
    jobs, until the client leaves or the server shuts down.

    401 without a token (header or `access_token` query parameter); 429 `too_many_streams` and
    503 `server_busy` with `Retry-After` (as for a job's stream); 503 `database_unavailable`.
    """
    hub = request.app[HUB]
    user_id = request[keys.CLAIMS].user_id
    seen = _last_seen(request.headers.get("Last-Event-ID"))
    with request.app[STREAM_SLOTS].hold(user_id):
        return await _user_stream(request, hub, user_id, seen)


async def _user_stream(request: web.Request, hub: Hub, user_id: UUID, seen: dict[str, int]
                       ) -> web.StreamResponse:
    sub = hub.subscribe_user(user_id)
    try:
        async with as_user(request.app[keys.POOL], user_id) as conn:
            rows = await (await conn.execute(q("events_user_jobs"), {"user_id": user_id})).fetchall()
        async with _stream(request, sub) as resp:
            for row in rows:
                current = JobEvent.from_job(row["job"], user_id=user_id)
                if current.seq > seen.get(current.job_id, 0):
                    await resp.send(current.data, id=f"{current.job_id}:{current.seq}", event=current.name)
                    seen[current.job_id] = current.seq
            await _live(request, resp, sub, seen)
        return resp
    finally:
        hub.unsubscribe(sub)
