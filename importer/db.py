"""The connection pool, and transactions under the run-time roles."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import quote, urlencode
from uuid import UUID

import psycopg
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from importer.embedded import start as start_embedded
from importer.queries import q
from importer.settings import Settings

AsyncConn = psycopg.AsyncConnection


def database_url(settings: Settings) -> str:
    """DATABASE_URL, or the URL of an embedded Postgres started for this data directory."""
    return settings.database_url or start_embedded(settings.data_dir)


def make_pool(conninfo: str, *, min_size: int = 2, max_size: int = 10, name: str = "importer") -> AsyncConnectionPool:
    """A pool opened by the caller (`await pool.open(wait=True)`), so start-up fails fast.

    Connections are autocommit: every unit of work opens an explicit transaction, and nothing is
    left idle in a transaction between them. Rows come back as dicts. Each connection is named
    `importer-<name>` in pg_stat_activity, so an operator sees which process holds what.
    """
    return AsyncConnectionPool(
        conninfo,
        min_size=min_size,
        max_size=max_size,
        open=False,
        name=name,
        kwargs={"autocommit": True, "row_factory": dict_row, "application_name": f"importer-{name}"},
        check=AsyncConnectionPool.check_connection,
    )


@asynccontextmanager
async def as_user(pool: AsyncConnectionPool, user_id: UUID | str) -> AsyncIterator[AsyncConn]:
    """A transaction under the API role, seeing only `user_id`'s rows (row-level security)."""
    async with pool.connection() as conn, conn.transaction():
        await conn.execute(q("session_as_user"), {"user_id": str(user_id)})
        yield conn


@asynccontextmanager
async def as_worker(pool: AsyncConnectionPool) -> AsyncIterator[AsyncConn]:
    """A transaction under the worker role."""
    async with pool.connection() as conn, conn.transaction():
        await conn.execute(q("session_as_worker"))
        yield conn


def conninfo_url(conninfo: str, **overrides: str) -> str:
    """`conninfo` (URL or key=value) as a postgresql:// URL, with some parameters replaced.

    Tests use it to point at another database of the same server; yoyo needs the URL form.
    """
    params = {**conninfo_to_dict(conninfo), **overrides}
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
