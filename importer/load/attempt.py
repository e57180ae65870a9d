"""One import attempt: from a job id to the wheel's data, in one transaction, with progress.

The attempt claims the job, opens a reader of its stored file, runs the data transaction
(importer/load/transaction.py) and records how it ended through the job's lifecycle
(importer/jobs/lifecycle.py). Bad input and cancels end the job here; a transient database
error requeues it (or fails it on its last try) and propagates to the queue, which retries.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any
from uuid import UUID

import psycopg

from importer.db import AsyncConn, Pool, worker_transaction
from importer.errors import ImportCancelled, InvalidInput, NoValidRows, Superseded, TransientImportError
from importer.jobs import lifecycle
from importer.jobs.lifecycle import Claim, FileNotes
from importer.load.progress import READ_DONE, Progress
from importer.load.readers import ProcessReader, ThreadReader
from importer.load.transaction import Reader, load, store_rejections
from importer.mail.email_task import defer_email_if_needed
from importer.messages import render, render_in, set_language
from importer.model import JobStatus, Rejection, Source
from importer.queries import q
from importer.read.sources import WORKBOOKS
from importer.read.sources import open_source as open_source_now
from importer.settings import Settings

log = logging.getLogger(__name__)

#: Opens a Source from (media type, content, file name, mapping); tests hand one in.
OpenSource = Callable[[str, bytes, str, Any], Awaitable[Source]]


async def open_reader(pconn: AsyncConn, conninfo: str, claim: Claim, settings: Settings,
                      open_source: OpenSource | None = None) -> Reader:
    """A reader for the job's stored file: a child process for large files, else a thread."""
    limits = settings.load
    # A workbook is always read in a child: a small one can still unpack into a sheet of
    # millions of cells (hundreds of MB), which must not land in the worker process itself. The
    # content of a file read here comes with its size, in the same round trip.
    in_child = (limits.process_min_bytes, sorted(WORKBOOKS)) if open_source is None else (2**62, [])
    row = await (await pconn.execute(q("import_file_open"), {
        "file_id": claim.file_id, "inline_below": in_child[0], "in_child": in_child[1]},
        binary=True)).fetchone()
    assert row is not None  # import_jobs.file_id is a foreign key, ON DELETE RESTRICT
    reader: Reader
    if row["content"] is None:
        reader = ProcessReader(conninfo, claim.file_id, row["size_bytes"], row["media_type"],
                               claim.file_name, claim.mapping, default_year=claim.wheel_year,
                               sheet=claim.sheet, date_order=claim.date_order, in_flight=limits.in_flight,
                               language=claim.language)
    else:
        args = (row["media_type"], row["content"], claim.file_name, claim.mapping)
        del row
        if open_source is None:  # a Source made by the caller (tests) is read the same way
            source = await asyncio.to_thread(open_source_now, *args, default_year=claim.wheel_year,
                                             sheet=claim.sheet, date_order=claim.date_order)
        else:
            source = await open_source(*args)
        del args
        reader = ThreadReader(source, in_flight=limits.in_flight)
    try:
        await reader.open()
    except BaseException:
        await reader.close()
        raise
    return reader


def never_retried(exc: BaseException) -> bool:
    return False


def conninfo_of(pool: Pool) -> str:
    """The pool's connection string, for a reader process that opens its own connection."""
    conninfo = pool.conninfo
    if not isinstance(conninfo, str):  # make_pool always passes a string
        raise TypeError("the pool's conninfo must be a string")
    return conninfo


async def run_job(pool: Pool, job_id: UUID, *, settings: Settings,
                  will_retry: Callable[[BaseException], bool] = never_retried,
                  open_source: OpenSource | None = None) -> JobStatus | None:
    """Run one attempt of `job_id`; returns the status it ended in (None: nothing to do, or
    another attempt owns the job now).

    Bad input and cancels end the job here. A transient database error requeues the job (when
    `will_retry` says the queue will run it again) or fails it, then propagates to the queue.
    """
    limits = settings.load
    async with pool.connection() as pconn:
        claimed = await lifecycle.claim(pconn, job_id)
        if claimed == JobStatus.CANCELLED:
            log.info("import %s was cancelled before it ran", job_id, extra={"job_id": str(job_id)})
            return JobStatus.CANCELLED
        if not isinstance(claimed, Claim):
            log.info("import %s has already ended or does not exist: nothing to do", job_id,
                     extra={"job_id": str(job_id)})
            return None
        claim = claimed
        # The attempt's texts (current_step, errors) in the job's language: render() answers in
        # it from here on in this task (importer.messages; each attempt sets it once claimed).
        set_language(claim.language)
        progress = Progress(functools.partial(lifecycle.write_progress, pconn, claim),
                            functools.partial(lifecycle.status_of, pconn, claim.job_id, claim.attempt),
                            claim.job_id, claim.attempt, min_interval=limits.progress_interval,
                            cancel_check_interval=limits.cancel_check_interval)
        ending = Ending(pool, pconn, claim, progress, settings)
        extra = {"job_id": str(job_id), "attempt": claim.attempt, "wheel_id": str(claim.wheel_id)}
        log.info("import %s: attempt %d starts", job_id, claim.attempt, extra=extra)
        started = time.monotonic()
        try:
            if claim.attempt > 1:  # rejected rows are stored only by an attempt's end
                await pconn.execute(q("rejected_rows_clear"), {"job_id": job_id})
            reader = await open_reader(pconn, conninfo_of(pool), claim, settings, open_source)
            try:
                progress.total = reader.total_rows
                # The file's warnings and headers go with this step's write, in one statement.
                await progress.step("parsing", render("job.reading_rows", rows=reader.total_rows), READ_DONE,
                                    file=FileNotes(warnings=reader.warnings, headers=reader.headers))
                totals = await load(pool, claim, reader, progress, settings)
            finally:
                await reader.close()
        except InvalidInput as exc:
            await ending.fail(exc.code, exc.message_in(claim.language))
            log.info("import %s failed: %s", job_id, exc.code, extra=extra)
            return JobStatus.FAILED
        except NoValidRows as exc:
            await ending.fail(exc.code, exc.message, rejections=exc.rejections,
                              processed=exc.processed, rejected=exc.rejected)
            log.info("import %s failed: no valid rows", job_id, extra=extra)
            return JobStatus.FAILED
        except ImportCancelled:
            await ending.write(lambda conn: lifecycle.cancelled(conn, claim))
            log.info("import %s cancelled; the wheel is unchanged", job_id, extra=extra)
            return JobStatus.CANCELLED
        except Superseded:
            log.warning("import %s: attempt %d was superseded; its work is rolled back",
                        job_id, claim.attempt, extra=extra)
            return None
        except psycopg.errors.IntegrityError as exc:
            # A row the validation let through and the schema refused: retrying cannot help.
            diag = exc.diag
            await ending.fail("invalid_data", render("job.database_refused",
                                                     constraint=diag.constraint_name or type(exc).__name__,
                                                     detail=diag.message_primary or exc))
            log.warning("import %s failed on a constraint", job_id, extra=extra, exc_info=True)
            return JobStatus.FAILED
        except (psycopg.OperationalError, TransientImportError) as exc:
            await ending.transient(exc, will_retry(exc))
            raise
        except asyncio.CancelledError as exc:
            # The worker shuts down: the data transaction is gone; the queue runs the job again.
            await asyncio.shield(ending.transient(exc, will_retry(exc)))
            raise
        except Exception as exc:
            await ending.fail("internal_error", render("job.internal_error", error=type(exc).__name__))
            log.exception("import %s failed on an internal error", job_id, extra=extra)
            raise
        log.info("import %s completed: %d items from %d rows (%d rejected) in %.3f s",
                 job_id, totals.items, totals.processed, totals.rejected, time.monotonic() - started,
                 extra={**extra, "progress_writes": progress.writes})
        return JobStatus.COMPLETED


class Ending:
    """How an attempt that did not complete records its end: in one transaction of its own, on
    the progress connection or, if that one is broken, on a fresh one."""

    def __init__(self, pool: Pool, pconn: AsyncConn, claim: Claim, progress: Progress, settings: Settings):
        self.pool = pool
        self.pconn = pconn
        self.claim = claim
        self.progress = progress
        self.settings = settings

    async def write(self, end: Callable[[AsyncConn], Awaitable[bool]], *,
                    rejections: Sequence[Rejection] = (), email: bool = False) -> bool:
        """Run `end` (a lifecycle transition); when it still was this attempt's, store the
        rejections and queue the e-mail with it. Returns whether it was."""

        async def write(conn: AsyncConn) -> bool:
            async with worker_transaction(conn):
                ended = await end(conn)
                if ended:
                    await store_rejections(conn, self.claim.job_id, list(rejections))
                    if email:
                        await defer_email_if_needed(conn, self.claim.job_id, settings=self.settings)
                return ended

        if not self.pconn.broken and not self.pconn.closed:
            try:
                return await write(self.pconn)
            except psycopg.OperationalError:
                log.warning("progress connection failed; ending job %s on a new one", self.claim.job_id)
        async with self.pool.connection() as conn:
            return await write(conn)

    async def fail(self, code: str, message: str, *, rejections: Sequence[Rejection] = (),
                   processed: int = 0, rejected: int = 0) -> bool:
        processed = max(processed, self.progress.processed)
        rejected = max(rejected, self.progress.rejected)
        return await self.write(lambda conn: lifecycle.fail(
            conn, self.claim, code=code, message=message, processed=processed, rejected=rejected),
            rejections=rejections, email=True)

    async def transient(self, exc: BaseException, retry: bool) -> None:
        """Requeue (the queue will retry) or fail (it will not) after a transient error."""
        claim = self.claim
        extra = {"job_id": str(claim.job_id), "attempt": claim.attempt, "will_retry": retry}
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        try:
            if retry:
                await self.write(lambda conn: lifecycle.requeue(conn, claim, reason))
                log.warning("import %s: attempt %d hit %s; it will be retried", claim.job_id,
                            claim.attempt, type(exc).__name__, extra=extra)
            else:
                await self.fail("internal_error", render_in(claim.language, "job.failed_after",
                                                            attempts=claim.attempt, reason=reason))
                log.error("import %s failed after %d attempts: %s", claim.job_id, claim.attempt,
                          reason, extra=extra)
        except Exception:
            # The database is unreachable: the job stays `processing` until the maintenance task
            # sees its queue job has ended (or its worker stalled) and settles it.
            log.exception("import %s: could not record the end of attempt %d", claim.job_id,
                          claim.attempt, extra=extra)
