"""The hub's LISTEN connection: a silent (half-open) connection is found dead and replaced without losing an event."""

from __future__ import annotations

import asyncio
import contextlib
import json

import psycopg
from psycopg.conninfo import conninfo_to_dict

from importer.db import conninfo_url
from server.hub import Hub
from tests.factories import make_job, make_user, make_wheel


class FreezingProxy:
    """A TCP proxy to Postgres whose existing connections can be made to go silent (a half-open peer)."""

    def __init__(self, host: str, port: int):
        self.target = (host, port)
        self.gates: list[asyncio.Event] = []  # set: the connection forwards; cleared: silent
        self.tasks: set[asyncio.Task] = set()
        self.server: asyncio.Server | None = None
        self.port = 0

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    def freeze(self) -> None:
        """Every connection open now stops forwarding, without closing; new ones work."""
        for gate in self.gates:
            gate.clear()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.tasks.add(asyncio.current_task())
        gate = asyncio.Event()
        gate.set()
        self.gates.append(gate)
        host, port = self.target
        if host.startswith("/"):  # a socket directory (the embedded Postgres listens only there)
            up_reader, up_writer = await asyncio.open_unix_connection(f"{host}/.s.PGSQL.{port}")
        else:
            up_reader, up_writer = await asyncio.open_connection(host, port)

        async def pump(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError):
                while data := await src.read(65536):
                    await gate.wait()
                    dst.write(data)
                    await dst.drain()
            dst.close()

        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(pump(reader, up_writer), pump(up_reader, writer))
        writer.close()
        up_writer.close()

    async def stop(self) -> None:
        assert self.server is not None
        self.server.close()
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


async def test_a_silent_listen_connection_is_replaced_and_the_terminal_event_still_arrives(pool, db_url):
    """With its connection frozen, the hub's check times out, it reconnects and re-reads: `completed` arrives."""
    params = conninfo_to_dict(db_url)
    proxy = FreezingProxy(params.get("host") or "127.0.0.1", int(params.get("port") or 5432))
    await proxy.start()
    hub = Hub(conninfo_url(db_url, host="127.0.0.1", port=str(proxy.port)),
              check_interval=0.5, check_timeout=1.0)
    user = await make_user(pool)
    job = await make_job(pool, user, await make_wheel(pool, user))
    try:
        await hub.start(wait=20)
        sub = hub.subscribe_job(job)
        async with pool.connection() as conn:
            await conn.execute("UPDATE import_jobs SET progress = 10 WHERE id = %s", (job,))
            assert (await asyncio.wait_for(sub.get(), 10)).seq == 2
            proxy.freeze()
            await conn.execute("UPDATE import_jobs SET status = 'completed', progress = 100, step = 'done',"
                               " finished_at = now() WHERE id = %s", (job,))
        event = await asyncio.wait_for(sub.get(), 20)
        assert (event.seq, event.status) == (3, "completed")
        assert hub.reconnects == 1 and hub.is_listening
        assert json.loads(event.data)["progress"] == 100
    finally:
        await hub.stop()
        await proxy.stop()
    async with await psycopg.AsyncConnection.connect(db_url) as conn:
        assert (await (await conn.execute("SELECT seq FROM import_jobs WHERE id = %s", (job,))).fetchone())[0] == 3


async def test_a_users_job_that_ended_during_a_long_outage_is_re_read(pool, db_url, pg_server):
    """Down longer than the re-read margin, the hub still re-reads a served user's job that finished meanwhile."""
    from datetime import timedelta

    from psycopg import sql

    dbname = conninfo_to_dict(db_url)["dbname"]
    hub = Hub(db_url, check_interval=0.3, reread_margin=timedelta(seconds=0.2))
    user = await make_user(pool)
    job = await make_job(pool, user, await make_wheel(pool, user))
    admin = await psycopg.AsyncConnection.connect(conninfo_url(pg_server, dbname="postgres"), autocommit=True)
    allow = sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS {}")
    try:
        await hub.start(wait=20)
        sub = hub.subscribe_user(user)
        await asyncio.sleep(0.5)  # a check or two: the hub knows it was listening until now
        await admin.execute(allow.format(sql.Identifier(dbname), sql.SQL("false")))
        await admin.execute("SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity"
                            " WHERE datname = %s AND application_name = 'importer-hub'", (dbname,))
        async with pool.connection() as conn:
            await conn.execute("UPDATE import_jobs SET status = 'cancelled', finished_at = now()"
                               " WHERE id = %s", (job,))
        await asyncio.sleep(1.5)  # the outage outlasts the margin many times over
        assert not hub.is_listening and sub.queue.empty()
        await admin.execute(allow.format(sql.Identifier(dbname), sql.SQL("true")))
        event = await asyncio.wait_for(sub.get(), 20)
        assert (event.job_id, event.status, event.seq) == (str(job), "cancelled", 2)
    finally:
        await admin.execute(allow.format(sql.Identifier(dbname), sql.SQL("true")))
        await admin.close()
        await hub.stop()
