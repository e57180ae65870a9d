"""Procrastinate's psycopg connector, with a LISTEN loop that survives a database restart."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import Any, LiteralString

import procrastinate
import psycopg
import psycopg_pool
from procrastinate import connector as procrastinate_connector
from procrastinate import exceptions
from procrastinate import sql as procrastinate_sql

log = logging.getLogger(__name__)

BACKOFF_FIRST = 0.2
BACKOFF_MAX = 5.0
# A listener that ran this long before failing was healthy: the next failure starts over fast.
HEALTHY_AFTER = 10.0
# How long a query waits for a pool connection while the database is unreachable, in steps,
# before it fails (and the worker with it). The pool's own wait is 30 s, shorter than many
# outages (a failover, a slow restart, a network partition).
OUTAGE_PATIENCE = 600.0
OUTAGE_STEP = 10.0
# The queries of the worker's side tasks, each safe to send twice: a heartbeat, a periodic
# job's deferral (one row per task and tick, ON CONFLICT DO NOTHING), reads. A side task
# whose query fails stops the whole worker, with exit status 0; these are sent again instead
# when the connection died under them (a restart, a failover, a terminated backend). Fetching
# a job is not among them: sent twice after a lost answer, it could claim a job no one runs.
RESENT_AFTER_A_LOST_CONNECTION = frozenset(procrastinate_sql.queries[name] for name in (
    "update_heartbeat", "defer_periodic_job", "list_jobs_to_abort"))


class ReconnectingPsycopgConnector(procrastinate.PsycopgConnector):
    """Procrastinate reconnects its LISTEN connection only when the old one dies and a new one
    can be opened at once. While the server restarts, opening fails, the listener (a worker side
    task) raises, and the worker stops itself: a restart of Postgres stopped every worker. Here
    the listener retries with capped, jittered backoff instead, for as long as the worker runs;
    the worker's polling (fetch_job_polling_interval) covers notifications lost meanwhile.
    Everything else goes through the pool, whose `check` replaces dead connections; a query
    waits up to OUTAGE_PATIENCE for a connection instead of the pool's 30 s, after which the
    worker's fetch loop or heartbeat would raise and stop the worker. A heartbeat or periodic
    deferral cut mid-query by a restart is sent again (RESENT_AFTER_A_LOST_CONNECTION).
    """

    @contextlib.asynccontextmanager
    async def _get_cursor(self, connection: psycopg.AsyncConnection | None = None) -> AsyncIterator[Any]:
        # Every query of the worker's loop (fetch, heartbeat, finish, retry, periodic defer)
        # comes through here. Waiting for a connection sends nothing to the database, so
        # waiting longer is safe for any query; a connection lost mid-query still fails it.
        if connection is not None:
            async with super()._get_cursor(connection) as cursor:
                yield cursor
            return
        conn = await self._getconn_patiently()
        try:
            async with super()._get_cursor(conn) as cursor:
                yield cursor
        finally:
            await self.pool.putconn(conn)

    async def execute_query_async(self, query: LiteralString, **arguments: Any) -> None:
        await self._resending(super().execute_query_async, query, arguments)

    async def execute_query_one_async(self, query: LiteralString, **arguments: Any) -> dict[str, Any]:
        result: dict[str, Any] = await self._resending(super().execute_query_one_async, query, arguments)
        return result

    async def execute_query_all_async(self, query: LiteralString, **arguments: Any) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = await self._resending(super().execute_query_all_async, query, arguments)
        return result

    async def _resending(self, execute: Callable[..., Awaitable[Any]], query: LiteralString,
                         arguments: dict[str, Any]) -> Any:
        """`execute(query, **arguments)`; a query of RESENT_AFTER_A_LOST_CONNECTION whose
        connection died is sent again, with backoff, for up to OUTAGE_PATIENCE seconds."""
        started = time.monotonic()
        delay = BACKOFF_FIRST
        while True:
            try:
                return await execute(query, **arguments)
            except exceptions.ConnectorException as exc:
                if (query not in RESENT_AFTER_A_LOST_CONNECTION
                        or not isinstance(exc.__cause__, psycopg.OperationalError)
                        or time.monotonic() - started >= OUTAGE_PATIENCE):
                    raise
                log.warning("a worker query lost its connection (%s); sending it again in about %.1fs",
                            exc.__cause__.__class__.__name__, delay)
            await asyncio.sleep(random.uniform(delay / 2, delay))
            delay = min(delay * 2, BACKOFF_MAX)

    async def _getconn_patiently(self) -> psycopg.AsyncConnection:
        started = time.monotonic()
        while True:
            try:
                return await self.pool.getconn(timeout=OUTAGE_STEP)
            except psycopg_pool.PoolTimeout:
                waited = time.monotonic() - started
                if waited >= OUTAGE_PATIENCE:
                    raise
                log.warning("no database connection for %.0f s; the worker keeps waiting", waited)

    @contextlib.asynccontextmanager
    async def _get_standalone_connection(self) -> AsyncIterator[psycopg.AsyncConnection]:
        # Procrastinate 3.10 passes the pool's kwargs plus `autocommit=True`; our pools already
        # say autocommit, and the duplicate keyword raised TypeError in the listener.
        conninfo = await self.pool._resolve_conninfo()
        kwargs = {**await self.pool._resolve_kwargs(), "autocommit": True}
        async with await self.pool.connection_class.connect(conninfo, **kwargs) as connection:
            yield connection

    async def listen_notify(self, on_notification: procrastinate_connector.Notify,
                            channels: Iterable[str]) -> None:
        channels = list(channels)
        delay = BACKOFF_FIRST
        while True:
            started = time.monotonic()
            try:
                await super().listen_notify(on_notification, channels)
            except (exceptions.ConnectorException, OSError) as exc:
                if time.monotonic() - started > HEALTHY_AFTER:
                    delay = BACKOFF_FIRST
                log.warning("worker LISTEN connection failed (%s); reconnecting in about %.1fs",
                            exc.__cause__.__class__.__name__ if exc.__cause__ else exc, delay)
                await asyncio.sleep(random.uniform(delay / 2, delay))
                delay = min(delay * 2, BACKOFF_MAX)
