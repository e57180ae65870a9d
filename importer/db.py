"""The connection pool, and transactions under the run-time roles."""

from __future__ import annotations

import time
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import quote, urlencode
from uuid import UUID

import psycopg
from psycopg.conninfo import conninfo_to_dict
from psycopg.pq import TransactionStatus
from psycopg.rows import DictRow, dict_row
from psycopg_pool import AsyncConnectionPool

from importer.embedded import start as start_embedded
from importer.embedded import warn_embedded
from importer.queries import q
from importer.settings import Settings

# Every connection of ours gives rows as dicts (make_pool, the hub's LISTEN connection).
AsyncConn = psycopg.AsyncConnection[DictRow]
Pool = AsyncConnectionPool[AsyncConn]

# The API pool lends a connection given back in good order this recently without the round
# trip that checks it (see AliveBypassCheck).
ALIVE_BYPASS_SECONDS = 0.5


class AliveBypassCheck:
    """A pool's check, skipped for a connection given back idle within `window` seconds
    (HikariCP's "alive bypass window"): under load every checkout would otherwise pay a round
    trip. A connection idle for longer is checked before it is lent, so a restarted server costs
    no request that comes after the window; one that comes within it fails (the API answers 503
    and the pool replaces the connection). Not for the worker's pools: Procrastinate's loop stops
    the worker on a failed query.
    """

    def __init__(self, window: float):
        self.window = window
        self._returned_at: weakref.WeakKeyDictionary[AsyncConn, float] = weakref.WeakKeyDictionary()

    async def reset(self, conn: AsyncConn) -> None:
        """The pool's reset hook: runs when a connection comes back, idle means alive just now."""
        if conn.pgconn.transaction_status == TransactionStatus.IDLE:
            self._returned_at[conn] = time.monotonic()

    async def check(self, conn: AsyncConn) -> None:
        returned = self._returned_at.pop(conn, None)
        if returned is not None and time.monotonic() - returned < self.window and not conn.closed:
            return
        await AsyncConnectionPool.check_connection(conn)


def database_url(settings: Settings) -> str:
    """DATABASE_URL, or the URL of an embedded Postgres started for this data directory
    (see database_choice: a WARNING, or a ConfigError in production)."""
    choice = database_choice(settings)
    return choice if isinstance(choice, str) else start_embedded(choice)


def database_choice(settings: Settings) -> str | Path:
    """DATABASE_URL when set; else the data directory whose embedded Postgres is to be used.

    The embedded database is for a newcomer's machine: choosing it logs a WARNING (once per
    process and directory, see importer.embedded.warn_embedded), and IMPORTER_ENV=production
    refuses it with a ConfigError (importer.settings) naming DATABASE_URL, before anything is
    created in the data directory.
    """
    if settings.database_url:
        return settings.database_url
    settings.refuse_unsafe_production()  # in production: DATABASE_URL is unset, so it raises
    warn_embedded(settings.data_dir)
    return settings.data_dir


def make_pool(conninfo: str, *, min_size: int = 2, max_size: int = 10, name: str = "importer",
              alive_bypass: float = 0.0, options: str | None = None) -> Pool:
    """A pool opened by the caller (`await pool.open(wait=True)`), so start-up fails fast.

    Connections are autocommit: every unit of work opens an explicit transaction, and nothing is
    left idle in a transaction between them. Rows come back as dicts. Each connection is named
    `importer-<name>` in pg_stat_activity, so an operator sees which process holds what. Every
    connection is checked before it is lent, unless `alive_bypass` (seconds) is given: see
    AliveBypassCheck for who may. `options` are libpq's (`-c name=value` session settings).
    """
    kwargs: dict[str, object] = {"autocommit": True, "row_factory": dict_row,
                                 "application_name": f"importer-{name}"}
    if options:
        kwargs["options"] = options
    bypass = AliveBypassCheck(alive_bypass) if alive_bypass > 0 else None
    return AsyncConnectionPool(
        conninfo,
        connection_class=AsyncConn,
        min_size=min_size,
        max_size=max_size,
        open=False,
        name=name,
        kwargs=kwargs,
        check=bypass.check if bypass else AsyncConnectionPool.check_connection,
        reset=bypass.reset if bypass else None,
    )


@asynccontextmanager
async def pipelined_transaction(conn: AsyncConn) -> AsyncIterator[None]:
    """BEGIN … COMMIT with the body in pipeline mode, for short request transactions.

    BEGIN goes out with the body's first statements and COMMIT with its last ones, and a
    statement is sent without waiting for the one before: a round trip is paid only where the
    body fetches a result. A body that reads one row costs two round trips instead of four.
    The body must fetch what it needs to decide on: an error surfaces where its result is
    fetched, or at the COMMIT, and a cursor's `rowcount` is known only once its result is (use
    RETURNING). It must not open a pipeline or transaction of its own: psycopg syncs on entering
    a nested one.
    """
    committed = False
    try:
        async with conn.pipeline():
            await conn.execute(q("transaction_begin"))
            yield
            await conn.execute(q("transaction_commit"))
        committed = True
    finally:
        # A failed statement, or an exception of the body, leaves the transaction open.
        if not committed and not conn.closed and conn.info.transaction_status != TransactionStatus.IDLE:
            await conn.rollback()


@asynccontextmanager
async def unflushed_transaction(conn: AsyncConn) -> AsyncIterator[None]:
    """A pipelined transaction (see `pipelined_transaction`) whose commit does not wait for the
    disk: for the worker's progress writes and claims, which notify listeners and which a crash
    may lose without harm (see the query session_commit_unflushed). Fetch results after the
    block: the whole transaction is then one round trip.
    """
    async with pipelined_transaction(conn):
        await conn.execute(q("session_commit_unflushed"))
        yield


@asynccontextmanager
async def as_user(pool: Pool, user_id: UUID | str) -> AsyncIterator[AsyncConn]:
    """A transaction under the API role, seeing only `user_id`'s rows (row-level security).

    Pipelined (see `pipelined_transaction`): the role and user travel with the first query.
    """
    async with pool.connection() as conn, pipelined_transaction(conn):
        await conn.execute(q("session_as_user"), {"user_id": str(user_id)})
        yield conn


@asynccontextmanager
async def as_operator(pool: Pool, user_id: UUID | str) -> AsyncIterator[AsyncConn]:
    """`as_user`, plus what an operator may do more (schema/0014): see and cancel every
    user's import jobs. Only for the job actions an operator's token allows (API.md,
    "Authentication"); every other table still shows only `user_id`'s rows."""
    async with pool.connection() as conn, pipelined_transaction(conn):
        await conn.execute(q("session_as_operator"), {"user_id": str(user_id)})
        yield conn


@asynccontextmanager
async def as_session(pool: Pool, user_id: UUID | str, *, operator: bool) -> AsyncIterator[AsyncConn]:
    """`as_operator` when `operator`, else `as_user`."""
    session = as_operator if operator else as_user
    async with session(pool, user_id) as conn:
        yield conn


@asynccontextmanager
async def as_user_snapshot(pool: Pool, user_id: UUID | str) -> AsyncIterator[AsyncConn]:
    """A read-only transaction under the API role for `user_id`, on one snapshot: for a read
    that streams a large result through a server-side cursor (`conn.cursor(name=...)`), a
    batch at a time, while its statements all see the same rows.

    Not pipelined: a server-side cursor's fetches each need their answer before the next.
    """
    async with pool.connection() as conn:
        await conn.execute(q("transaction_begin_snapshot"))
        try:
            await conn.execute(q("session_as_user"), {"user_id": str(user_id)})
            yield conn
        except BaseException:
            if not conn.closed and conn.info.transaction_status != TransactionStatus.IDLE:
                await conn.rollback()
            raise
        await conn.execute(q("transaction_commit"))


@asynccontextmanager
async def as_worker(pool: Pool) -> AsyncIterator[AsyncConn]:
    """A transaction under the worker role, on a connection of `pool`."""
    async with pool.connection() as conn, worker_transaction(conn):
        yield conn


@asynccontextmanager
async def worker_transaction(conn: AsyncConn) -> AsyncIterator[AsyncConn]:
    """A transaction under the worker role on a connection the caller holds (an attempt's
    progress connection, which also records the attempt's end)."""
    async with conn.transaction():
        await conn.execute(q("session_as_worker"))
        yield conn


def conninfo_url(conninfo: str, **overrides: str) -> str:
    """`conninfo` (URL or key=value) as a postgresql:// URL, with some parameters replaced.

    Tests use it to point at another database of the same server; yoyo needs the URL form.
    """
    # Parsed from a string, every value is a string (conninfo_to_dict is typed wider, for its kwargs).
    params = {**{k: str(v) for k, v in conninfo_to_dict(conninfo).items()}, **overrides}
    user = quote(params.pop("user", "") or "", safe="")
    password = params.pop("password", None)
    host = params.pop("host", "") or ""
    port = params.pop("port", None)
    dbname = quote(params.pop("dbname", "") or "", safe="")
    auth = f"{user}:{quote(password, safe='')}@" if password else (f"{user}@" if user else "")
    netloc = auth
    if host and not host.startswith("/"):
        netloc += host + (f":{port}" if port else "")
    else:
        if host:
            params["host"] = host
        if port:
            params["port"] = port
    query = ("?" + urlencode(params)) if params else ""
    return f"postgresql://{netloc}/{dbname}{query}"
