"""Creating a job row and queueing its task in one transaction, under the per-user limits."""

from __future__ import annotations

import uuid
from typing import Any

import attrs
import psycopg
from psycopg.types.json import Jsonb

from importer.db import AsyncConn
from importer.errors import NotFound, TooManyActiveJobs
from importer.import_task import run_import
from importer.queries import q

IDEMPOTENCY_CONSTRAINT = "import_jobs_user_idempotency_key"
# Imports of ordinary files end in seconds, so a client may try again soon.
RETRY_AFTER_SECONDS = 5


@attrs.frozen(kw_only=True)
class NewJob:
    """What a job is made of, whether from an upload or from the job it retries."""

    wheel_id: uuid.UUID
    file_id: uuid.UUID
    file_name: str
    mode: str
    mapping: dict[str, Any] | None
    notify: bool
    retry_of: uuid.UUID | None = None
    idempotency_key: str | None = None


@attrs.frozen(kw_only=True)
class Admission:
    """The outcome of the checks under the user's lock: an existing job (same key), or go."""

    existing: dict[str, Any] | None


async def admit(conn: AsyncConn, *, user_id: uuid.UUID, wheel_id: uuid.UUID, max_active: int,
                idempotency_key: str | None) -> Admission:
    """Lock the user, then check key, wheel and active-jobs limit with a snapshot taken after the lock."""
    # One round trip for both: the server still runs them in order, and in READ COMMITTED the
    # check's snapshot is taken when it starts, after the lock is granted.
    async with conn.pipeline():
        await conn.execute(q("user_lock"), {"user_id": user_id})
        cur = await conn.execute(q("import_submit_check"), {
            "user_id": user_id, "wheel_id": wheel_id, "idempotency_key": idempotency_key})
    row = await cur.fetchone()
    if row["existing"] is not None:
        return Admission(existing=row["existing"])
    if not row["wheel_found"]:
        raise NotFound("No such wheel.")
    if row["active"] >= max_active:
        raise TooManyActiveJobs(
            f"You already have {row['active']} active imports (at most {max_active}); "
            "try again when one has finished.",
            retry_after=RETRY_AFTER_SECONDS, details={"active": row["active"], "limit": max_active})
    return Admission(existing=None)


async def store_file(conn: AsyncConn, *, user_id: uuid.UUID, media_type: str,
                     content: bytes | bytearray, sha256: bytes) -> uuid.UUID:
    file_id = uuid.uuid4()
    await conn.execute(q("import_file_insert"), {
        "id": file_id, "user_id": user_id, "media_type": media_type, "size_bytes": len(content),
        "sha256": sha256, "content": content})
    return file_id


async def insert_job(conn: AsyncConn, *, user_id: uuid.UUID, job: NewJob) -> dict[str, Any]:
    """The job row and its queued task, on the caller's connection: both commit or neither does."""
    job_id = uuid.uuid4()
    procrastinate_job_id = await run_import.configure(connection=conn).defer_async(job_id=str(job_id))
    row = await (await conn.execute(q("import_job_insert"), {
        "id": job_id, "user_id": user_id, "wheel_id": job.wheel_id, "file_id": job.file_id,
        "file_name": job.file_name, "mode": job.mode,
        "mapping": Jsonb(job.mapping) if job.mapping is not None else None,
        "notify": job.notify, "retry_of": job.retry_of, "idempotency_key": job.idempotency_key,
        "procrastinate_job_id": procrastinate_job_id})).fetchone()
    return row["job"]


def is_idempotency_race(exc: psycopg.errors.UniqueViolation) -> bool:
    return exc.diag.constraint_name == IDEMPOTENCY_CONSTRAINT
