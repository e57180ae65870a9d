"""The SSE progress streams over real HTTP, fed by the real trigger through the hub's LISTEN connection."""

from __future__ import annotations

import asyncio
import socket
import uuid
from typing import Any

import psycopg
import pytest
from aiohttp import web
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from importer import tokens
from importer.db import conninfo_url
from importer.settings import Settings
from server.app import create_app
from server.hub import APPLICATION_NAME, HUB
from server.views import events
from tests.factories import make_job, make_user, make_wheel
from tests.sse import open_stream

SECRET = "test-secret-for-progress-streams-" + "0123456789" * 4


def ensure_event_routes(app: web.Application) -> None:
    """The two stream routes, unless routes.setup already added them."""
    paths = {r.get_info().get("formatter") or r.get_info().get("path") for r in app.router.resources()}
    if "/api/imports/{job_id}/events" not in paths:
        app.router.add_get("/api/imports/{job_id}/events", events.job_events)
    if "/api/events" not in paths:
        app.router.add_get("/api/events", events.user_events)


@pytest.fixture
async def client(pool, db_url, aiohttp_client):
    # Some tests here hold dozens of one user's streams: more than IMPORTER_MAX_STREAMS_PER_USER's
    # default (tests/acceptance/api/test_stream_limits.py tests that limit).
    settings = Settings.from_env({"DATABASE_URL": db_url, "IMPORTER_JWT_SECRET": SECRET,
                                  "IMPORTER_MAX_STREAMS_PER_USER": "1000"})
    app = create_app(settings, pool=pool)
    ensure_event_routes(app)
    return await aiohttp_client(app)


@pytest.fixture
async def user(pool):
    return await make_user(pool)


@pytest.fixture
async def wheel(pool, user):
    return await make_wheel(pool, user)


def token_for(user_id: uuid.UUID) -> str:
    return tokens.mint(SECRET, user_id)


async def update_job(pool, job_id: uuid.UUID, **columns: Any) -> None:
    """Change a job row as the worker would (test code: column names are not user input)."""
    assignments = sql.SQL(", ").join(
        sql.SQL("{} = {}").format(sql.Identifier(k), sql.SQL("now()") if v == "now()" else sql.Placeholder())
        for k, v in columns.items())
    values = [v for v in columns.values() if v != "now()"]
    async with pool.connection() as conn:
        await conn.execute(sql.SQL("UPDATE import_jobs SET {} WHERE id = %s").format(assignments),
                           [*values, job_id])


async def start_job(pool, job_id):
    await update_job(pool, job_id, status="processing", step="parsing", attempts=1, started_at="now()")


async def complete_job(pool, job_id):
    await update_job(pool, job_id, status="completed", step="done", progress=100, finished_at="now()")


async def test_first_event_is_the_current_state_then_every_change_in_order_until_the_terminal_one(
        client, pool, user, wheel):
    """A job stream starts with the job as it is, then sends each change by seq, and ends after `completed`."""
    job = await make_job(pool, user, wheel)
    await start_job(pool, job)
    async with open_stream(client.session, str(client.make_url(f"/api/imports/{job}/events")),
                           token=token_for(user)) as stream:
        assert stream.status == 200
        assert stream.response.headers["Content-Type"].startswith("text/event-stream")
        assert stream.response.headers["X-Accel-Buffering"] == "no"
        first = await stream.next()
        assert (first.id, first.event) == ("2", "progress")
        assert first.job["status"] == "processing" and first.job["id"] == str(job)
        assert "user_id" not in first.job
        assert stream.retry == events.RETRY_MS
        for p in (10, 40, 80):
            await update_job(pool, job, progress=p, current_step=f"Aktivitet {p}/100")
        await complete_job(pool, job)
        rest = await stream.until_end(within=10)
    assert [e.id for e in rest] == ["3", "4", "5", "6"]
    assert [e.job["progress"] for e in rest] == [10, 40, 80, 100]
    assert [e.event for e in rest] == ["progress", "progress", "progress", "completed"]
    assert "user_id" not in rest[-1].job


async def test_a_finished_job_gives_only_its_terminal_event_and_the_stream_ends(client, pool, user, wheel):
    """Connecting to a job that already failed gives one `failed` event and then the end of the stream."""
    job = await make_job(pool, user, wheel)
    await update_job(pool, job, status="failed", error_code="no_valid_rows", error_message="Inga rader",
                     finished_at="now()")
    async with open_stream(client.session, str(client.make_url(f"/api/imports/{job}/events")),
                           token=token_for(user), query_token=True) as stream:
        got = await stream.until_end(within=10)
    assert [(e.id, e.event) for e in got] == [("2", "failed")]
    assert got[0].job["error"] == {"code": "no_valid_rows", "message": "Inga rader"}


async def test_last_event_id_resumes_after_what_the_client_saw(client, pool, user, wheel):
    """With Last-Event-ID equal to the current seq the first event is not resent; later ones come."""
    job = await make_job(pool, user, wheel)
    await start_job(pool, job)
    await update_job(pool, job, progress=20)  # seq 3
    url = str(client.make_url(f"/api/imports/{job}/events"))
    async with open_stream(client.session, url, token=token_for(user), last_event_id="3") as stream:
        await asyncio.sleep(0.2)
        await update_job(pool, job, progress=30)
        await complete_job(pool, job)
        got = await stream.until_end(within=10)
    assert [(e.id, e.job["progress"]) for e in got] == [("4", 30), ("5", 100)]
    async with open_stream(client.session, url, token=token_for(user), last_event_id="2") as stream:
        got = await stream.until_end(within=10)
    assert [(e.id, e.event) for e in got] == [("5", "completed")]
    # It saw the end already: 204 tells a browser's EventSource not to reconnect again.
    async with open_stream(client.session, url, token=token_for(user), last_event_id="5") as stream:
        assert stream.status == 204


async def test_clients_connecting_while_the_job_changes_see_every_seq_once_in_order(client, pool, user, wheel):
    """Whichever order a client's read and the notifications come in, its seqs run without gap or repeat."""
    job = await make_job(pool, user, wheel)
    await start_job(pool, job)
    url = str(client.make_url(f"/api/imports/{job}/events"))

    async def watch(delay: float) -> list[int]:
        await asyncio.sleep(delay)
        async with open_stream(client.session, url, token=token_for(user)) as stream:
            return [int(e.id) for e in await stream.until_end(within=30)]

    watchers = [asyncio.create_task(watch(i * 0.015)) for i in range(20)]
    async with pool.connection() as conn:
        for p in range(1, 101):
            await conn.execute("UPDATE import_jobs SET processed_items = %s WHERE id = %s", (p, job))
            await asyncio.sleep(0.003)
    await complete_job(pool, job)
    for seqs in await asyncio.wait_for(asyncio.gather(*watchers), 40):
        assert seqs == list(range(seqs[0], 104)), seqs  # seq 103 is `completed`


async def test_another_users_job_stream_is_a_json_404(client, pool, user, wheel):
    """Streaming someone else's job answers 404 with the JSON error body, like a missing job."""
    job = await make_job(pool, user, wheel)
    stranger = await make_user(pool)
    for path in (f"/api/imports/{job}/events", f"/api/imports/{uuid.uuid4()}/events",
                 "/api/imports/not-a-uuid/events"):
        async with open_stream(client.session, str(client.make_url(path)), token=token_for(stranger)) as stream:
            assert stream.status == 404
            body = await stream.response.json()
            assert body["error"]["code"] == "not_found"
    assert client.app[HUB].subscriber_count == 0


async def test_the_user_stream_carries_every_job_including_new_ones(client, pool, user, wheel):
    """/api/events starts with the user's active jobs and then carries changes of all of them, ids job:seq."""
    first = await make_job(pool, user, wheel)
    second = await make_job(pool, user, wheel)
    await start_job(pool, second)
    others = await make_job(pool, await make_user(pool), await make_wheel(pool, user))
    async with open_stream(client.session, str(client.make_url("/api/events")),
                           token=token_for(user)) as stream:
        initial = [await stream.next(), await stream.next()]
        assert {e.id for e in initial} == {f"{first}:1", f"{second}:2"}
        third = await make_job(pool, user, wheel)
        await update_job(pool, others, progress=5)
        await start_job(pool, first)
        await update_job(pool, second, progress=50)
        await complete_job(pool, third)
        got = [await stream.next() for _ in range(3)]
        assert {(e.id, e.event) for e in got[:3]} <= {
            (f"{third}:1", "progress"), (f"{first}:2", "progress"), (f"{second}:3", "progress"),
            (f"{third}:2", "completed")}
        got.append(await stream.next())
        ids = [e.id for e in got]
        assert ids.index(f"{third}:1") < ids.index(f"{third}:2")
        assert {e.id.split(":")[0] for e in got} == {str(first), str(second), str(third)}
        assert all("user_id" not in e.job for e in got)
    # Resuming with the last id seen of one job does not repeat that job's state.
    async with open_stream(client.session, str(client.make_url("/api/events")),
                           token=token_for(user), last_event_id=f"{second}:3") as stream:
        again = [await stream.next(), await stream.next()]
        assert {e.id for e in again} == {f"{first}:2", f"{third}:2"}
        with pytest.raises(TimeoutError):
            await stream.next(within=0.5)


async def _hub_backend_count(db_url: str) -> int:
    async with await psycopg.AsyncConnection.connect(db_url, autocommit=True) as conn:
        row = await (await conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND application_name = %s", (APPLICATION_NAME,))).fetchone()
    return row[0]


async def test_a_lost_listen_connection_still_gives_every_client_its_terminal_event(
        client, pool, db_url, pg_server, user, wheel):
    """The LISTEN backend killed and the job finished while the hub cannot reconnect: clients still get `completed`."""
    hub = client.app[HUB]
    job = await make_job(pool, user, wheel)
    await start_job(pool, job)
    dbname = conninfo_to_dict(db_url)["dbname"]
    admin = await psycopg.AsyncConnection.connect(conninfo_url(pg_server, dbname="postgres"), autocommit=True)
    try:
        async with open_stream(client.session, str(client.make_url(f"/api/imports/{job}/events")),
                               token=token_for(user)) as job_stream, \
                open_stream(client.session, str(client.make_url("/api/events")),
                            token=token_for(user)) as user_stream:
            assert (await job_stream.next()).id == "2"
            assert (await user_stream.next()).id == f"{job}:2"
            await admin.execute(sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS false").format(sql.Identifier(dbname)))
            await admin.execute(
                "SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity"
                " WHERE datname = %s AND application_name = %s", (dbname, APPLICATION_NAME))
            for _ in range(200):  # the check query notices within a few seconds
                if not hub.is_listening:
                    break
                await asyncio.sleep(0.05)
            await update_job(pool, job, progress=60)
            await complete_job(pool, job)
            with pytest.raises(TimeoutError):
                await job_stream.next(within=0.5)  # nobody is listening: nothing can come yet
            assert not hub.is_listening
            async with client.get("/readyz") as ready:
                assert ready.status == 503
            await admin.execute(sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS true").format(sql.Identifier(dbname)))
            got = await job_stream.until_end(within=20)
            assert got[-1].event == "completed" and got[-1].id == "4"
            user_got = [await user_stream.next(within=10)]
            while user_got[-1].event != "completed":
                user_got.append(await user_stream.next(within=10))
            assert user_got[-1].id == f"{job}:4"
            assert hub.is_listening and hub.reconnects >= 1
            assert await _hub_backend_count(db_url) == 1
            async with client.get("/readyz") as ready:
                assert ready.status == 200
    finally:
        await admin.execute(sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS true").format(sql.Identifier(dbname)))
        await admin.close()


async def test_a_terminated_listen_backend_mid_job_loses_no_event_of_a_running_job(client, pool, db_url, user, wheel):
    """pg_terminate_backend on the hub while a job runs: the stream goes on and reaches its terminal event."""
    hub = client.app[HUB]
    job = await make_job(pool, user, wheel)
    await start_job(pool, job)
    async with open_stream(client.session, str(client.make_url(f"/api/imports/{job}/events")),
                           token=token_for(user)) as stream:
        assert (await stream.next()).id == "2"
        async with pool.connection() as conn:
            await conn.execute("SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity"
                               " WHERE datname = current_database() AND query LIKE 'LISTEN%%'")
        await update_job(pool, job, progress=50)  # made while the hub is down
        await complete_job(pool, job)
        got = await stream.until_end(within=20)
    assert got[-1].event == "completed"
    assert [int(e.id) for e in got] == sorted({int(e.id) for e in got})  # in order, no duplicate
    assert hub.reconnects >= 1


async def test_a_slow_client_is_dropped_without_delaying_a_fast_one(client, pool, user, wheel):
    """A client that stops reading fills its small queue and is cut off; a reading client gets every event."""
    hub = client.app[HUB]
    hub.queue_size = 32  # room for a burst of notifications in one packet, not for a stalled client
    job = await make_job(pool, user, wheel)
    await start_job(pool, job)
    url = client.make_url(f"/api/imports/{job}/events")
    slow = socket.socket()
    slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    slow.setblocking(False)
    loop = asyncio.get_running_loop()
    await loop.sock_connect(slow, (url.host, url.port))
    await loop.sock_sendall(slow, (f"GET {url.path} HTTP/1.1\r\nHost: {url.host}\r\n"
                                   f"Authorization: Bearer {token_for(user)}\r\n\r\n").encode())
    try:
        async with open_stream(client.session, str(url), token=token_for(user)) as fast:
            assert (await fast.next()).id == "2"
            dropped_before = hub.dropped_clients
            reading = asyncio.create_task(fast.until_end(within=30))
            filler = "x" * 190
            async with pool.connection() as conn:
                for p in range(1, 1001):
                    await conn.execute("UPDATE import_jobs SET processed_items = %s, current_step = %s"
                                       " WHERE id = %s", (p, f"{filler}{p}", job))
            await complete_job(pool, job)
            got = await reading
        assert [int(e.id) for e in got] == list(range(3, 1004))
        assert got[-1].event == "completed"
        assert hub.dropped_clients == dropped_before + 1
        # What the slow client can still read ends without the terminal event: it was cut off.
        received = b""
        async with asyncio.timeout(10):
            while True:
                try:
                    chunk = await loop.sock_recv(slow, 65536)
                except ConnectionResetError:
                    break
                if not chunk:
                    break
                received += chunk
        assert b"event: completed" not in received
    finally:
        slow.close()


async def test_database_connections_do_not_grow_with_clients(client, pool, db_url, user, wheel):
    """Forty open streams use the one LISTEN connection, not a database connection each."""
    job = await make_job(pool, user, wheel)
    url = str(client.make_url(f"/api/imports/{job}/events"))
    async with open_stream(client.session, url, token=token_for(user)) as one:
        await one.next()
        baseline = await _backend_count(db_url)
    streams = []
    try:
        for _ in range(40):
            cm = open_stream(client.session, url, token=token_for(user))
            streams.append(cm)
            stream = await cm.__aenter__()
            await stream.next()
        assert client.app[HUB].subscriber_count == 40
        await update_job(pool, job, progress=7)
        assert await _backend_count(db_url) <= baseline + 2
        assert await _hub_backend_count(db_url) == 1
    finally:
        for cm in streams:
            await cm.__aexit__(None, None, None)


async def _backend_count(db_url: str) -> int:
    async with await psycopg.AsyncConnection.connect(db_url, autocommit=True) as conn:
        row = await (await conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()")).fetchone()
    return row[0]


async def test_shutdown_ends_every_open_stream_promptly(pool, db_url, user, wheel):
    """Stopping the server closes open streams at once instead of waiting for them to time out."""
    import aiohttp

    settings = Settings.from_env({"DATABASE_URL": db_url, "IMPORTER_JWT_SECRET": SECRET})
    app = create_app(settings, pool=pool)
    ensure_event_routes(app)
    runner = web.AppRunner(app, shutdown_timeout=30)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    job = await make_job(pool, user, wheel)
    try:
        async with aiohttp.ClientSession() as session, \
                open_stream(session, f"http://127.0.0.1:{port}/api/events", token=token_for(user)) as us, \
                open_stream(session, f"http://127.0.0.1:{port}/api/imports/{job}/events",
                            token=token_for(user)) as js:
            assert (await us.next()).id == f"{job}:1"
            assert (await js.next()).id == "1"
            async with asyncio.timeout(10):
                await runner.cleanup()
            assert await us.next(within=5) is None
            assert await js.next(within=5) is None
    finally:
        await runner.cleanup()


@pytest.mark.slow
async def test_a_quiet_stream_carries_a_comment_line_within_15_seconds(client, pool, user, wheel):
    """With no change to send, a comment line still arrives well within 15 s (proxies keep the stream open)."""
    job = await make_job(pool, user, wheel)
    async with open_stream(client.session, str(client.make_url(f"/api/imports/{job}/events")),
                           token=token_for(user)) as stream:
        assert (await stream.next()).id == "1"
        with pytest.raises(TimeoutError):
            await stream.next(within=events.PING_INTERVAL + 2)
        assert stream.comments >= 1 and events.PING_INTERVAL < 15
