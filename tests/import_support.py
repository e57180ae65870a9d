"""Generated import files and wheel snapshots for the worker's tests."""

from __future__ import annotations

import asyncio
import time
from datetime import date, timedelta
from typing import Any
from uuid import UUID

from psycopg_pool import AsyncConnectionPool

HEADER = "Aktivitet,Startdatum,Slutdatum,Område,Kategori,Etikett,Beskrivning\n"


def csv_rows(n: int, *, rings: int = 3, groups: int = 40, labels: int = 5, first_year: int = 2025,
             cross_every: int = 0, name_prefix: str = "Aktivitet") -> bytes:
    """`n` valid data rows with Swedish headers and ISO dates; every `cross_every`-th row
    crosses a year boundary (20 Dec – 10 Jan)."""
    lines = [HEADER]
    base = date(first_year, 1, 1)
    for i in range(n):
        if cross_every and i % cross_every == cross_every - 1:
            start, end = date(first_year, 12, 20), date(first_year + 1, 1, 10)
        else:
            start = base + timedelta(days=i % 300)
            end = start + timedelta(days=i % 20)
        lines.append(f"{name_prefix} {i},{start.isoformat()},{end.isoformat()},Ring {i % rings},"
                     f"Grupp {i % groups},Person {i % labels},Rad {i}\n")
    return "".join(lines).encode("utf-8")


async def snapshot(pool: AsyncConnectionPool, wheel_id: UUID) -> dict[str, Any]:
    """Everything a wheel holds, comparable across an import that must not change it."""
    out: dict[str, Any] = {}
    queries = {
        "rings": "SELECT id, name, ring_order, color FROM wheel_rings WHERE wheel_id = %s ORDER BY id",
        "groups": "SELECT id, name, color FROM activity_groups WHERE wheel_id = %s ORDER BY id",
        "labels": "SELECT id, name, color FROM labels WHERE wheel_id = %s ORDER BY id",
        "pages": "SELECT id, year, page_order FROM wheel_pages WHERE wheel_id = %s ORDER BY id",
        "items": "SELECT id, page_id, ring_id, group_id, label_id, name, start_date, end_date"
                 " FROM items WHERE wheel_id = %s ORDER BY id",
    }
    async with pool.connection() as conn:
        for key, sql in queries.items():
            out[key] = await (await conn.execute(sql, (wheel_id,))).fetchall()
    return out


async def job_row(pool: AsyncConnectionPool, job_id: UUID) -> dict[str, Any]:
    async with pool.connection() as conn:
        return await (await conn.execute("SELECT * FROM import_jobs WHERE id = %s", (job_id,))).fetchone()


async def wait_for(pool: AsyncConnectionPool, job_id: UUID, predicate, *, within: float = 60.0,
                   interval: float = 0.02) -> dict[str, Any]:
    """Poll the job row until `predicate(row)` holds; fail after `within` seconds."""
    deadline = time.monotonic() + within
    while True:
        row = await job_row(pool, job_id)
        if predicate(row):
            return row
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting; job is {row['status']} at {row['processed_items']}")
        await asyncio.sleep(interval)
