"""Progress streams are admitted up to IMPORTER_MAX_STREAMS_PER_USER (429) and IMPORTER_MAX_STREAMS (503)
per server process, before a stream opens; a closed stream gives its slot back."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
from aiohttp import web

from server.app import create_app
from tests.acceptance.api.support import Api, bearer, error_of, make_settings
from tests.sse import Stream, open_stream


def token(api: Api) -> str:
    return api.headers["Authorization"].removeprefix("Bearer ")


def events_url(api: Api, path: str = "/api/events") -> str:
    return str(api.client.make_url(path))


@contextlib.asynccontextmanager
async def streams(api: Api, count: int, path: str = "/api/events") -> AsyncIterator[list[Stream]]:
    """`count` streams of `api`'s user, each asserted open (200), closed at the end."""
    async with contextlib.AsyncExitStack() as stack:
        opened = []
        for _ in range(count):
            stream = await stack.enter_async_context(open_stream(
                api.client.session, events_url(api, path), token=token(api)))
            assert stream.status == 200
            opened.append(stream)
        yield opened


async def refusal(api: Api, path: str = "/api/events") -> tuple[int, dict[str, str], dict[str, Any]]:
    """(status, headers, error object) of a stream request that must be refused."""
    async with open_stream(api.client.session, events_url(api, path),
                           token=token(api)) as stream:
        resp = stream.response
        assert resp.status != 200, "the stream was admitted"
        return resp.status, dict(resp.headers), error_of(await resp.json())


async def admitted_again(api: Api, path: str = "/api/events", within: float = 30.0) -> Stream:
    """Wait until a stream of `api`'s user is admitted again (a closed stream's slot came back)."""
    async with asyncio.timeout(within):
        while True:
            cm = open_stream(api.client.session, events_url(api, path), token=token(api))
            stream = await cm.__aenter__()
            if stream.status == 200:
                await cm.__aexit__(None, None, None)
                return stream
            assert stream.status == 429, stream.status
            await cm.__aexit__(None, None, None)
            await asyncio.sleep(0.5)


async def refused_count(api: Api, reason: str) -> float:
    """importer_sse_streams_refused_total{reason} as /metrics shows it now."""
    text = await (await api.client.get("/metrics")).text()
    for line in text.splitlines():
        if line.startswith(f'importer_sse_streams_refused_total{{reason="{reason}"}} '):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


async def test_a_user_at_the_per_user_cap_gets_429_while_another_user_still_streams(api_factory):
    """The third stream of a user (limit 2) on either SSE route is 429 `too_many_streams` with
    Retry-After and a closed connection, counted on /metrics; another user's stream opens."""
    api = await api_factory(IMPORTER_MAX_STREAMS_PER_USER="2")
    job = await api.job(await api.wheel())
    refused_before = await refused_count(api, "user")
    async with streams(api, 2):
        for path in ("/api/events", f"/api/imports/{job['id']}/events"):
            status, headers, error = await refusal(api, path)
            assert status == 429
            assert error["code"] == "too_many_streams"
            assert error["details"] == {"open": 2, "limit": 2}
            assert int(headers["Retry-After"]) > 0
            assert headers.get("Connection", "").lower() == "close"
        assert await refused_count(api, "user") == refused_before + 2
        other = api.as_other()
        async with streams(other, 1):
            pass
        # The refusal is in the request's language, like every error.
        resp = await api.call("GET", "/api/events", headers={"Accept-Language": "en"})
        assert resp.status == 429
        assert (await resp.json())["error"]["message"].startswith("You already have 2 progress streams")


async def test_the_process_cap_gives_503_with_retry_after(api_factory):
    """With IMPORTER_MAX_STREAMS=2 held by two users, a third user's stream is 503 `server_busy` with Retry-After."""
    first = await api_factory(IMPORTER_MAX_STREAMS="2")
    second, third = first.as_other(), first.as_other()
    refused_before = await refused_count(first, "process")
    async with streams(first, 1), streams(second, 1):
        status, headers, error = await refusal(third)
        assert await refused_count(first, "process") == refused_before + 1
        assert status == 503
        assert error["code"] == "server_busy"
        assert error["details"] == {"limit": 2}
        assert int(headers["Retry-After"]) > 0
        # Everything that is not a stream still works at the cap.
        assert (await third.call("GET", "/api/imports")).status == 200
        assert (await third.client.get("/healthz")).status == 200


async def test_a_stream_that_ends_gives_its_slot_back(api_factory):
    """Slots come back when the job's stream ends (terminal event), when the client leaves, and a
    404 or a 204 keeps none."""
    api = await api_factory(IMPORTER_MAX_STREAMS_PER_USER="1")
    job = await api.job(await api.wheel())
    job_path = f"/api/imports/{job['id']}/events"
    # A refused stream (no such job) and an already-seen job (204) hold nothing afterwards.
    missing = await api.call("GET", "/api/imports/00000000-0000-4000-8000-000000000000/events")
    assert missing.status == 404
    async with streams(api, 1, job_path) as (stream,):
        assert (await stream.next()).event == "progress"
        assert (await refusal(api))[0] == 429
        assert (await api.call("POST", f"/api/imports/{job['id']}/cancel")).status == 202
        assert [e.event for e in await stream.until_end()] == ["cancelled"]
    # The job's stream ended on the server's side: the slot is back at once.
    seen = await api.call("GET", job_path, headers={"Last-Event-ID": "1000"})
    assert seen.status == 204
    async with streams(api, 1):
        assert (await refusal(api))[0] == 429
    # The client left: the server notices on its next write (a ping) and frees the slot.
    await admitted_again(api)


async def test_shutdown_gives_every_slot_back(db_url):
    """Stopping the server ends its streams and leaves no slot taken."""
    from server.stream_slots import STREAM_SLOTS

    app = create_app(make_settings(db_url, IMPORTER_MAX_STREAMS_PER_USER="3"))
    runner = web.AppRunner(app, shutdown_timeout=30)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    headers = bearer("00000000-0000-4000-8000-0000000000aa")
    try:
        async with aiohttp.ClientSession(headers=headers) as session, contextlib.AsyncExitStack() as stack:
            for _ in range(3):
                stream = await stack.enter_async_context(open_stream(session, f"http://127.0.0.1:{port}/api/events"))
                assert stream.status == 200
            assert app[STREAM_SLOTS].open == 3
            async with asyncio.timeout(10):
                await runner.cleanup()
            assert app[STREAM_SLOTS].open == 0
            assert app[STREAM_SLOTS].of_user("00000000-0000-4000-8000-0000000000aa") == 0
    finally:
        await runner.cleanup()
