"""The API's transitions of an import job: submit, retry, cancel, and the reads of jobs.

Each opens its own pipelined transaction as the request's user (importer.db.as_user), so
row-level security makes another user's job a 404. With `operator` (a token of role
`service_role`) the reads, the cancel and the retry run as an operator
(importer.db.as_operator, schema/0014): every user's job is then found.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from typing import Any
from uuid import UUID

import procrastinate
import psycopg
from psycopg.types.json import Jsonb

from importer.db import AsyncConn, Pool, as_operator, as_session, as_user
from importer.errors import BadRequest, Conflict, NotFound, TooManyActiveJobs
from importer.jobs.lifecycle.attempts import by_language
from importer.jobs.lifecycle.spooled import forget, quota_exceeded, store_spooled
from importer.jobs.lifecycle.values import (
    IMPORT_QUEUE,
    IMPORT_TASK,
    AlreadySubmitted,
    FileContent,
    JobObject,
    NewJob,
    SpooledFile,
    Submitted,
    one_row,
)
from importer.messages import render_in
from importer.model import RETRYABLE, TERMINAL, ImportMode, JobStatus
from importer.queries import q

log = logging.getLogger(__name__)

# The unique constraint an Idempotency-Key race violates (schema/0003): the first job wins.
IDEMPOTENCY_CONSTRAINT = "import_jobs_user_idempotency_key"
# Imports of ordinary files end in seconds, so a client may try again soon.
RETRY_AFTER_SECONDS = 5
NIL_UUID = UUID(int=0)


async def submit(pool: Pool, queue: procrastinate.App, *, user_id: UUID, job: NewJob,
                 file: FileContent | SpooledFile | UUID, max_active: int, idempotency_key: str | None,
                 max_stored: int | None = None) -> Submitted:
    """Store the file (or use the stored one whose id `file` is: a preview's), create the job
    row and queue its task, in one transaction of two round trips: a job never exists without
    its task, nor a task without its job. A SpooledFile is stored first, in a transaction of
    its own under the quota (lifecycle.spooled), and deleted again unless the job is created.

    Raises NotFound (no such wheel of this user's), TooManyActiveJobs (`max_active` active
    jobs already) and StorageQuotaExceeded (a new file that would bring the user's stored
    bytes over `max_stored`; None: no quota); nothing is written then. A replayed
    `idempotency_key` returns the first job with `created` False.
    """
    if isinstance(file, SpooledFile):
        file_id = await store_spooled(pool, user_id, file, max_stored)
        try:
            submitted = await submit(pool, queue, user_id=user_id, job=job, file=file_id, max_active=max_active,
                                     idempotency_key=idempotency_key)
        except BaseException:
            await forget(pool, file_id)
            raise
        if not submitted.created:  # a replayed key: its first job has a file of its own
            await forget(pool, file_id)
        return submitted
    incoming = 0 if isinstance(file, UUID) else len(file.content)
    try:
        async with as_user(pool, user_id) as conn:
            task_id, job_id = await _admit(conn, queue, user_id=user_id, wheel_id=job.wheel_id,
                                           max_active=max_active, idempotency_key=idempotency_key,
                                           incoming_bytes=incoming, max_stored=max_stored)
            # Neither INSERT is waited for: they travel with the COMMIT.
            if isinstance(file, UUID):
                file_id = file  # row-level security's check refuses a file of another user's
            else:
                file_id = await store_file(conn, user_id, file)
            inserted = await _insert(conn, job_id=job_id, task_id=task_id, user_id=user_id, job=job,
                                     file_id=file_id, idempotency_key=idempotency_key)
    except AlreadySubmitted as replay:
        return Submitted(job=JobObject(replay.job), created=False)
    except psycopg.errors.UniqueViolation as exc:
        if exc.diag.constraint_name != IDEMPOTENCY_CONSTRAINT:
            raise
        # The user lock makes this unlikely; should two requests still race, the first wins.
        async with as_user(pool, user_id) as conn:
            row = await (await conn.execute(q("import_job_by_key"), {
                "user_id": user_id, "idempotency_key": idempotency_key})).fetchone()
        if row is None:  # the first job of that key was purged meanwhile: nothing to answer with
            raise
        return Submitted(job=JobObject(row["job"]), created=False)
    return Submitted(job=await _inserted(inserted), created=True)


async def store_file_within_quota(conn: AsyncConn, user_id: UUID, file: FileContent, max_stored: int) -> UUID:
    """Store an upload (as `store_file`) unless it would bring the user's stored bytes over
    `max_stored`: raises StorageQuotaExceeded then, before anything is written. Takes the user
    lock (held to the end of the caller's transaction), so two uploads racing cannot both fit."""
    await conn.execute(q("user_lock"), {"user_id": user_id})
    row = await one_row(await conn.execute(q("user_stored_bytes"), {"user_id": user_id}))
    if row["stored_bytes"] + len(file.content) > max_stored:
        raise quota_exceeded(row["stored_bytes"], max_stored)
    return await store_file(conn, user_id, file)


async def store_file(conn: AsyncConn, user_id: UUID, file: FileContent) -> UUID:
    """Store an upload on the caller's connection (not waited for in a pipeline); its new id."""
    file_id = uuid.uuid4()
    await conn.execute(q("import_file_insert"), {
        "id": file_id, "user_id": user_id, "media_type": file.media_type,
        "size_bytes": len(file.content), "sha256": file.sha256, "content": file.content})
    return file_id


async def retry(pool: Pool, queue: procrastinate.App, *, user_id: UUID, job_id: UUID,
                max_active: int, operator: bool = False) -> JobObject:
    """A new job (`retry_of` = `job_id`) that imports the same stored file again.

    An operator's retry of another user's job is made as that user: the new job is the
    owner's (on the owner's wheel, from the owner's file, counted against the owner's
    `max_active`), exactly what the owner's own retry would make; the operator's session only
    finds whose job it is.

    Raises NotFound, Conflict `job_not_retryable` (the job is not failed or cancelled),
    Conflict `job_already_retried` (a retry of it exists: retry that one, so that one failed
    file is never imported twice) and TooManyActiveJobs.
    """
    if operator:
        async with as_operator(pool, user_id) as conn:
            owner = await (await conn.execute(q("import_job_owner"), {"job_id": job_id})).fetchone()
        if owner is None:
            raise NotFound.of("api.no_job")
        user_id = owner["user_id"]
    async with as_user(pool, user_id) as conn:
        old = await (await conn.execute(q("import_job_lock"), {"job_id": job_id})).fetchone()
        if old is None:
            raise NotFound.of("api.no_job")
        if old["status"] not in RETRYABLE:
            raise Conflict.of("api.not_retryable", params={"status": old["status"]},
                              code="job_not_retryable", details={"status": old["status"]})
        if old["retried_by"] is not None:
            raise Conflict.of("api.already_retried", params={"retry": str(old["retried_by"])},
                              code="job_already_retried", details={"retry": str(old["retried_by"])})
        task_id, new_id = await _admit(conn, queue, user_id=user_id, wheel_id=old["wheel_id"],
                                       max_active=max_active, idempotency_key=None)
        inserted = await _insert(conn, job_id=new_id, task_id=task_id, user_id=user_id, job=NewJob(
            wheel_id=old["wheel_id"], file_name=old["file_name"], mode=ImportMode(old["mode"]),
            mapping=old["mapping"], notify=old["notify"], date_order=old["date_order"],
            skip_duplicates=old["skip_duplicates"], sheet=old["sheet"]),
            file_id=old["file_id"], retry_of=job_id)
    return await _inserted(inserted)


async def cancel(pool: Pool, queue: procrastinate.App, *, user_id: UUID,
                 job_id: UUID, operator: bool = False) -> JobObject:
    """Cancel a job: a pending one ends `cancelled` at once (its queued task with it), a running
    one becomes `cancelling` and its worker rolls back and ends it; asking again is harmless.

    Raises NotFound, and Conflict `job_finished` for a job that has ended.
    """
    async with as_session(pool, user_id, operator=operator) as conn:
        row = await (await conn.execute(q("import_job_lock"), {"job_id": job_id})).fetchone()
        if row is None:
            raise NotFound.of("api.no_job")
        status = JobStatus(row["status"])
        if status in TERMINAL:
            raise Conflict.of("api.job_finished", params={"status": status.value}, code="job_finished",
                              details={"status": status.value})
        if status == JobStatus.PENDING:
            job = (await one_row(await conn.execute(q("import_job_cancel_pending"), {
                "job_id": job_id, "texts": by_language("job.cancelled")})))["job"]
            if row["procrastinate_job_id"] is not None:
                # Its queued task too, in the same transaction (a task already taken by a
                # worker is not `todo` any more; that worker's claim then skips the job).
                await queue.job_manager.cancel_job_by_id_async(row["procrastinate_job_id"], connection=conn)
        elif status == JobStatus.PROCESSING:
            job = (await one_row(await conn.execute(q("import_job_cancel_running"), {
                "job_id": job_id, "texts": by_language("job.cancelling")})))["job"]
        else:  # cancelling already: nothing more to do
            job = (await one_row(await conn.execute(q("import_job_get"), {"job_id": job_id})))["job"]
    return JobObject(job)


async def get(pool: Pool, *, user_id: UUID, job_id: UUID, operator: bool = False) -> JobObject:
    """One job of the user's (any user's for an operator). Raises NotFound."""
    async with as_session(pool, user_id, operator=operator) as conn:
        row = await (await conn.execute(q("import_job_get"), {"job_id": job_id})).fetchone()
    if row is None:
        raise NotFound.of("api.no_job")
    return JobObject(row["job"])


async def get_on(conn: AsyncConn, job_id: UUID) -> JobObject | None:
    """One job, on a connection the caller holds (a stream's first event, under as_user)."""
    row = await (await conn.execute(q("import_job_get"), {"job_id": job_id})).fetchone()
    return None if row is None else JobObject(row["job"])


async def exists(conn: AsyncConn, job_id: UUID) -> bool:
    """Whether the job is there (and, under as_user, the user's)."""
    return await (await conn.execute(q("import_job_exists"), {"job_id": job_id})).fetchone() is not None


async def headers(conn: AsyncConn, job_id: UUID) -> list[str] | None:
    """The job's file's own headers: None when there is no such job (of the user's, under
    as_user); [] when no attempt has read the file yet."""
    row = await (await conn.execute(q("import_job_headers"), {"job_id": job_id})).fetchone()
    if row is None:
        return None
    return list(row["headers"] or [])


async def list_jobs(pool: Pool, *, user_id: UUID, status: JobStatus | None,
                    wheel_id: UUID | None, before: UUID | datetime | None, limit: int,
                    every_user: bool = False) -> list[JobObject]:
    """The user's jobs (with `every_user`, an operator's listing: every user's), newest first,
    at most `limit`, those created before `before` (a job id: the last of the previous page;
    or a moment). Raises BadRequest for a job id the listing cannot see."""
    async with as_session(pool, user_id, operator=every_user) as conn:
        before_at, before_id = None, NIL_UUID
        if isinstance(before, UUID):
            row = await (await conn.execute(q("import_job_cursor"), {"job_id": before})).fetchone()
            if row is None:
                raise BadRequest("before names no job of yours.", details={"parameter": "before"})
            before_at, before_id = row["created_at"], row["id"]
        elif before is not None:
            before_at = before
        rows = await (await conn.execute(q("import_job_list"), {
            "status": status, "wheel_id": wheel_id, "before_at": before_at, "before_id": before_id,
            "limit": limit})).fetchall()
    return [JobObject(r["job"]) for r in rows]


async def _admit(conn: AsyncConn, queue: procrastinate.App, *, user_id: UUID, wheel_id: UUID,
                 max_active: int, idempotency_key: str | None, incoming_bytes: int = 0,
                 max_stored: int | None = None) -> tuple[int, UUID]:
    """Lock the user, check key, wheel, active-jobs limit and storage quota (`incoming_bytes`
    more on top of what is stored, against `max_stored`) with a snapshot taken after the lock,
    and queue the new job's task: `(task id, new job id)`; one round trip in a pipelined
    transaction (importer.db.as_user).

    The server runs the statements in order: in READ COMMITTED the check's snapshot is taken
    when it starts, after the lock is granted. The task is queued before the checks' verdict is
    read, because reading its id is what sends them all; when the checks refuse, the exception
    raised here rolls the transaction back, task included.
    """
    await conn.execute(q("user_lock"), {"user_id": user_id})
    checked = await conn.execute(q("import_submit_check"), {
        "user_id": user_id, "wheel_id": wheel_id, "idempotency_key": idempotency_key})
    job_id = uuid.uuid4()
    task_id: int = await queue.configure_task(name=IMPORT_TASK, queue=IMPORT_QUEUE, connection=conn).defer_async(
        job_id=str(job_id))
    row = await one_row(checked)
    if row["existing"] is not None:
        raise AlreadySubmitted(row["existing"])
    if not row["wheel_found"]:
        raise NotFound.of("api.no_wheel")
    if row["active"] >= max_active:
        raise TooManyActiveJobs.of(
            "api.too_many_active_jobs", params={"active": row["active"], "limit": max_active},
            retry_after=RETRY_AFTER_SECONDS, details={"active": row["active"], "limit": max_active})
    if incoming_bytes and max_stored is not None and row["stored_bytes"] + incoming_bytes > max_stored:
        raise quota_exceeded(row["stored_bytes"], max_stored)
    return task_id, job_id


async def _insert(conn: AsyncConn, *, job_id: UUID, task_id: int, user_id: UUID, job: NewJob,
                  file_id: UUID, retry_of: UUID | None = None,
                  idempotency_key: str | None = None) -> psycopg.AsyncCursor[dict[str, Any]]:
    """The job row of an admission (whose task is queued already), on the caller's connection:
    both commit or neither does. Its result is read by `_inserted` once the transaction has
    ended: the INSERT then travels with the COMMIT, one round trip fewer, and a failed INSERT
    (an Idempotency-Key race) raises where the transaction ends."""
    return await conn.execute(q("import_job_insert"), {
        "id": job_id, "user_id": user_id, "wheel_id": job.wheel_id, "file_id": file_id,
        "file_name": job.file_name, "mode": job.mode.value,
        "mapping": Jsonb(job.mapping) if job.mapping is not None else None, "date_order": job.date_order,
        "skip_duplicates": job.skip_duplicates, "sheet": job.sheet,
        "notify": job.notify, "retry_of": retry_of, "idempotency_key": idempotency_key,
        "procrastinate_job_id": task_id, "language": job.language,
        "current_step": render_in(job.language, "job.waiting")})


async def _inserted(cursor: psycopg.AsyncCursor[dict[str, Any]]) -> JobObject:
    # Logged here, after the commit: Procrastinate's own line is written when the task is
    # queued, before the checks' verdict, so it is kept quiet (importer.logs.setup).
    job = JobObject((await one_row(cursor))["job"])
    log.info("import queued", extra={"job_id": str(job.id), "wheel_id": job.data["wheel_id"],
                                     "retry_of": job.data["retry_of"]})
    return job
