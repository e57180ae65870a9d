"""The hub writing each event's shared frame straight to every live client, over real HTTP."""

from __future__ import annotations

import asyncio
import re

import pytest

from importer.settings import Settings
from server.app import create_app
from server.gc_freeze import freeze_ctx
from server.hub import HUB
from tests.factories import make_job, make_user, make_wheel
from tests.integration.test_progress_streams import (
    SECRET,
    complete_job,
    ensure_event_routes,
    start_job,
    token_for,
    update_job,
)
from tests.sse import open_stream

EVENT = re.compile(rb"id: ([^\r\n]+)\r\nevent: ([a-z]+)\r\ndata: ")


def make_client(pool, db_url, aiohttp_client, *contexts):
    # One user holds 31 streams in a test here: more than IMPORTER_MAX_STREAMS_PER_USER's default.
    settings = Settings.from_env({"DATABASE_URL": db_url, "IMPORTER_JWT_SECRET": SECRET,
                                  "IMPORTER_MAX_STREAMS_PER_USER": "1000"})
    app = create_app(settings, pool=pool)
    ensure_event_routes(app)
    for ctx in contexts:
        app.cleanup_ctx.append(ctx)
    return aiohttp_client(app)


@pytest.fixture
async def client(pool, db_url, aiohttp_client):
    return await make_client(pool, db_url, aiohttp_client)


async def test_an_http_10_client_gets_plain_frames_up_to_the_terminal_event(client, pool):
    """Without chunked coding (HTTP/1.0) the hub writes the bare frames; the stream still ends after `completed`."""
    user = await make_user(pool)
    job = await make_job(pool, user, await make_wheel(pool, user))
    await start_job(pool, job)
    reader, writer = await asyncio.open_connection(client.host, client.port)
    writer.write(f"GET /api/imports/{job}/events HTTP/1.0\r\nAuthorization: Bearer {token_for(user)}\r\n\r\n"
                 .encode())
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    assert head.startswith(b"HTTP/1.0 200") and b"chunked" not in head.lower()
    body = await asyncio.wait_for(reader.readuntil(b"event: progress\r\n"), 10)  # the current state
    for p in (10, 20):
        await update_job(pool, job, progress=p)
    await complete_job(pool, job)
    body += await asyncio.wait_for(reader.read(), 10)  # until the server closes the connection
    writer.close()
    assert body.startswith(b"retry: ")
    assert [(i.decode(), e.decode()) for i, e in EVENT.findall(body)] == [
        ("2", "progress"), ("3", "progress"), ("4", "progress"), ("5", "completed")]
    assert body.endswith(b"\r\n\r\n") and b"\r\n0\r\n" not in body


async def test_a_client_that_left_is_unsubscribed_at_the_next_event(client, pool):
    """A closed connection is noticed when the next event would be written to it; its subscription goes."""
    user = await make_user(pool)
    job = await make_job(pool, user, await make_wheel(pool, user))
    await start_job(pool, job)
    hub = client.app[HUB]
    async with open_stream(client.session, str(client.make_url(f"/api/imports/{job}/events")),
                           token=token_for(user)) as stream:
        assert (await stream.next()).id == "2"
        assert hub.subscriber_count == 1
    for p in range(1, 200):
        await update_job(pool, job, progress=p % 100)
        if hub.subscriber_count == 0:
            break
        await asyncio.sleep(0.05)
    assert hub.subscriber_count == 0 and hub.dropped_clients == 0


async def test_with_aggressive_gc_housekeeping_every_client_gets_every_event_in_order(
        pool, db_url, aiohttp_client):
    """Freezing every 10 ms and a full collection every 0.3 s lose nothing.

    30 job streams and a user stream see every seq, in order.
    """
    client = await make_client(pool, db_url, aiohttp_client, freeze_ctx(refreeze=0.01, full_every=0.3))
    user = await make_user(pool)
    job = await make_job(pool, user, await make_wheel(pool, user))
    await start_job(pool, job)
    url = str(client.make_url(f"/api/imports/{job}/events"))

    started = 0
    all_started = asyncio.Event()

    async def watch() -> list[int]:
        nonlocal started
        async with open_stream(client.session, url, token=token_for(user)) as stream:
            # The first event is the job's state when the stream read it: only once every
            # stream has it are the changes made, so that each must see all of them.
            first = int((await stream.next(within=60)).id)
            started += 1
            if started == 30:
                all_started.set()
            return [first, *(int(e.id) for e in await stream.until_end(within=60))]

    async def watch_user(ready: asyncio.Event) -> list[str]:
        async with open_stream(client.session, str(client.make_url("/api/events")),
                               token=token_for(user)) as stream:
            got = [(await stream.next()).id]
            ready.set()
            while got[-1] != f"{job}:103":
                got.append((await stream.next(within=30)).id)
            return got

    ready = asyncio.Event()
    user_watch = asyncio.create_task(watch_user(ready))
    watchers = [asyncio.create_task(watch()) for _ in range(30)]
    await ready.wait()
    await asyncio.wait_for(all_started.wait(), 60)
    async with pool.connection() as conn:
        for p in range(1, 101):
            await conn.execute("UPDATE import_jobs SET processed_items = %s WHERE id = %s", (p, job))
    await complete_job(pool, job)
    for seqs in await asyncio.wait_for(asyncio.gather(*watchers), 60):
        assert seqs == list(range(2, 104))  # the current state, 100 changes, `completed`
    assert await asyncio.wait_for(user_watch, 30) == [f"{job}:{seq}" for seq in range(2, 104)]


async def test_the_hubs_pings_reach_quiet_streams_and_find_a_client_that_left(client, pool):
    """With no job changing, live streams get comment lines from the hub's sweep, and a closed one is unsubscribed."""
    user = await make_user(pool)
    job = await make_job(pool, user, await make_wheel(pool, user))
    hub = client.app[HUB]
    hub.ping_interval = 0.2
    url = str(client.make_url(f"/api/imports/{job}/events"))
    async with open_stream(client.session, url, token=token_for(user)) as staying:
        assert (await staying.next()).id == "1"
        async with open_stream(client.session, url, token=token_for(user)) as leaving:
            assert (await leaving.next()).id == "1"
            assert hub.subscriber_count == 2
        with pytest.raises(TimeoutError):
            await staying.next(within=2.5)  # no event, but comment lines
        assert staying.comments >= 2
        assert hub.subscriber_count == 1 and hub.dropped_clients == 0
