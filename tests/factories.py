"""Rows the tests need, written as the owner (outside row-level security)."""

from __future__ import annotations

import uuid
from typing import Any

from psycopg import sql
from psycopg_pool import AsyncConnectionPool


async def make_user(pool: AsyncConnectionPool, email: str | None = None) -> uuid.UUID:
    user_id = uuid.uuid4()
    async with pool.connection() as conn:
        await conn.execute("INSERT INTO users (id, email) VALUES (%s, %s)",
                           (user_id, email or f"{user_id.hex[:8]}@example.test"))
    return user_id


async def make_wheel(pool: AsyncConnectionPool, owner_id: uuid.UUID, title: str = "Plan 2026",
                     year: int = 2026) -> uuid.UUID:
    async with pool.connection() as conn:
        row = await (await conn.execute(
            "INSERT INTO year_wheels (owner_id, title, year) VALUES (%s, %s, %s) RETURNING id",
            (owner_id, title, year))).fetchone()
    return row["id"]


async def make_job(pool: AsyncConnectionPool, user_id: uuid.UUID, wheel_id: uuid.UUID,
                   content: bytes = b"Aktivitet,Startdatum\nM\xc3\xb6te,2026-03-01\n",
                   file_name: str = "plan.csv", **columns: Any) -> uuid.UUID:
    """An import job row with its stored file, as the API writes them (without a queued task).

    `columns` sets further import_jobs columns by name (test code only: names are not user input).
    """
    async with pool.connection() as conn, conn.transaction():
        file_row = await (await conn.execute(
            "INSERT INTO import_files (user_id, media_type, size_bytes, sha256, content)"
            " VALUES (%s, 'text/csv', %s, sha256(%s), %s) RETURNING id",
            (user_id, len(content), content, content))).fetchone()
        values = {"user_id": user_id, "wheel_id": wheel_id, "file_id": file_row["id"],
                  "file_name": file_name, **columns}
        query = sql.SQL("INSERT INTO import_jobs ({}) VALUES ({}) RETURNING id").format(
            sql.SQL(", ").join(map(sql.Identifier, values)),
            sql.SQL(", ").join(sql.Placeholder() * len(values)))
        row = await (await conn.execute(query, list(values.values()))).fetchone()
    return row["id"]
