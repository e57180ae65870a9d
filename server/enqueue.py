"""Creating a job row and queueing its task in one transaction, under the per-user limits."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import attrs
import psycopg
from psycopg.types.json import Jsonb

from importer.db import AsyncConn
from importer.errors import NotFound, TooManyActiveJobs
from importer.jobs.import_task import run_import
from importer.queries import q

log = logging.getLogger(__name__)

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
    """A submit the checks under the user's lock let through: the new job's id, and its task,
    queued in the same (still open) transaction."""

    job_id: uuid.UUID
    task_id: int


class AlreadySubmitted(Exception):
    """The Idempotency-Key names a job of this user's: answer with it. Raised so that the
    transaction, and the task queued with the checks, is rolled back."""

    def __init__(self, job: dict[str, Any]):
        super().__init__(job["id"])
        self.job = job


async def admit(conn: AsyncConn, *, user_id: uuid.UUID, wheel_id: uuid.UUID, max_active: int,
                idempotency_key: str | None) -> Admission:
    """Lock the user, check key, wheel and active-jobs limit with a snapshot taken after the
    lock, and queue the new job's task; all in one round trip in a pipelined transaction
    (importer.db.as_user).

    The server runs the statements in order: in READ COMMITTED the check's snapshot is taken
    when it starts, after the lock is granted. The task is queued before the checks' verdict is
    read, because reading its id is what sends them all; when the checks refuse, the caller's
    exception rolls the transaction back, task included.
    """
    await conn.execute(q("user_lock"), {"user_id": user_id})
    checked = await conn.execute(q("import_submit_check"), {
        "user_id": user_id, "wheel_id": wheel_id, "idempotency_key": idempotency_key})
    job_id = uuid.uuid4()
    task_id = await run_import.configure(connection=conn).defer_async(job_id=str(job_id))
    row = await checked.fetchone()
    if row["existing"] is not None:
        raise AlreadySubmitted(row["existing"])
    if not row["wheel_found"]:
        raise NotFound("No such wheel.")
    if row["active"] >= max_active:
        raise TooManyActiveJobs(
            f"You already have {row['active']} active imports (at most {max_active}); "
            "try again when one has finished.",
            retry_after=RETRY_AFTER_SECONDS, details={"active": row["active"], "limit": max_active})
    return Admission(job_id=job_id, task_id=task_id)


async def store_file(conn: AsyncConn, *, user_id: uuid.UUID, media_type: str,
                     content: bytes | bytearray, sha256: bytes) -> uuid.UUID:
    file_id = uuid.uuid4()
    await conn.execute(q("import_file_insert"), {
        "id": file_id, "user_id": user_id, "media_type": media_type, "size_bytes": len(content),
        "sha256": sha256, "content": content})
    return file_id


async def insert_job(conn: AsyncConn, *, user_id: uuid.UUID, admission: Admission,
                     job: NewJob) -> psycopg.AsyncCursor:
    """The job row of an admission (whose task is queued already), on the caller's connection:
    both commit or neither does.

    Read the job object with `inserted_job` once the transaction has ended: in a pipelined
    transaction (importer.db.as_user) the INSERT then travels with the COMMIT, one round trip
    fewer, and a failed INSERT (an Idempotency-Key race) raises where the transaction ends.
    """
    return await conn.execute(q("import_job_insert"), {
        "id": admission.job_id, "user_id": user_id, "wheel_id": job.wheel_id, "file_id": job.file_id,
        "file_name": job.file_name, "mode": job.mode,
        "mapping": Jsonb(job.mapping) if job.mapping is not None else None,
        "notify": job.notify, "retry_of": job.retry_of, "idempotency_key": job.idempotency_key,
        "procrastinate_job_id": admission.task_id})


async def inserted_job(cursor: psycopg.AsyncCursor) -> dict[str, Any]:
    """The job object `insert_job` wrote (its cursor holds the row once the transaction ended).

    Logged here, after the commit: Procrastinate's own line is written when the task is queued,
    before the checks' verdict, so the server keeps that one quiet (importer.logs.setup).
    """
    job = (await cursor.fetchone())["job"]
    log.info("import queued", extra={"job_id": job["id"], "wheel_id": job["wheel_id"],
                                     "retry_of": job["retry_of"]})
    return job


def is_idempotency_race(exc: psycopg.errors.UniqueViolation) -> bool:
    return exc.diag.constraint_name == IDEMPOTENCY_CONSTRAINT
