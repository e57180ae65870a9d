"""One import attempt: from a job id to the wheel's data, in one transaction, with progress."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any
from uuid import UUID

import attrs
import psycopg
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from importer.db import as_worker
from importer.errors import BadRequest, ImportCancelled, ImporterError, UnreadableFile
from importer.load.pipeline import PROCESS_MIN_BYTES, Chunk, Plan, ProcessReader, ThreadReader
from importer.load.progress import FINISHING, READ_DONE, Progress, Superseded
from importer.mail.email_task import defer_email_if_needed
from importer.model import Existing, ImportMode, NewStructure, Rejection, Source
from importer.queries import q
from importer.read.csv_source import open_csv
from importer.read.structured import parse_payload

log = logging.getLogger(__name__)

AsyncConn = psycopg.AsyncConnection
OpenSource = Callable[[str, bytes, str, Any], Awaitable[Source]]
Reader = ThreadReader | ProcessReader


class TransientImportError(ImporterError):
    """A failure a later attempt may not meet (lost connection, deadlock): retried by the queue."""

    code = "internal_error"


class NoValidRows(ImporterError):
    code = "no_valid_rows"

    def __init__(self, message: str, rejections: list[Rejection], rejected: int, processed: int):
        super().__init__(message)
        self.rejections = rejections
        self.rejected = rejected
        self.processed = processed


@attrs.frozen(kw_only=True)
class LoadLimits:
    """Tunables of the load; the defaults are what the bench measured as fastest."""

    chunk_rows: int = 5000
    in_flight: int = 3
    max_stored_rejections: int = 10_000
    progress_interval: float = 0.1
    cancel_check_interval: float = 0.2
    process_min_bytes: int = PROCESS_MIN_BYTES
    # Items per COPY statement: fewer statements cost fewer round trips, but the statement
    # trigger's transition table (and its sort) grows with them.
    statement_rows: int = 10_000

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> LoadLimits:
        env = dict(os.environ) if env is None else env
        raw = env.get("IMPORTER_MAX_STORED_REJECTIONS")
        return cls(max_stored_rejections=int(raw)) if raw else cls()


@attrs.frozen(kw_only=True)
class Claim:
    """The job as an attempt starts it."""

    job_id: UUID
    wheel_id: UUID
    file_id: UUID
    file_name: str
    mode: str
    mapping: Any
    attempt: int
    wheel_year: int

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Claim:
        return cls(job_id=row["id"], wheel_id=row["wheel_id"], file_id=row["file_id"],
                   file_name=row["file_name"], mode=row["mode"], mapping=row["mapping"],
                   attempt=row["attempts"], wheel_year=row["wheel_year"])


@attrs.define
class Totals:
    processed: int = 0
    rejected: int = 0
    activities: int = 0
    items: int = 0
    rings: int = 0
    groups: int = 0
    labels: int = 0
    pages: int = 0
    rejections: list[Rejection] = attrs.Factory(list)


def open_source_now(media_type: str, content: bytes, file_name: str, mapping: Any, *,
                    default_year: int | None = None) -> Source:
    """The stored upload as a Source: CSV, or the structured JSON form of API.md.

    `default_year` (the wheel's year) completes dates written without one (`3 maj`).
    """
    if media_type == "application/json":
        _mode, _name, source = parse_payload(content)
        return source
    return open_csv(content, file_name=file_name, mapping=mapping, default_year=default_year)


async def open_reader(pconn: AsyncConn, conninfo: str, claim: Claim, limits: LoadLimits,
                      open_source: OpenSource | None = None) -> Reader:
    """A reader for the job's stored file: a child process for large files, else a thread."""
    meta = await (await pconn.execute(q("import_file_size"), {"file_id": claim.file_id})).fetchone()
    if open_source is None and meta["size_bytes"] >= limits.process_min_bytes:
        reader: Reader = ProcessReader(conninfo, claim.file_id, meta["size_bytes"], meta["media_type"],
                                       claim.file_name, claim.mapping, default_year=claim.wheel_year,
                                       in_flight=limits.in_flight)
    else:
        row = await (await pconn.execute(
            q("import_file_get"), {"file_id": claim.file_id}, binary=True)).fetchone()
        args = (row["media_type"], row["content"], claim.file_name, claim.mapping)
        del row
        if open_source is None:  # a Source made by the caller (tests) is read the same way
            source = await asyncio.to_thread(open_source_now, *args, default_year=claim.wheel_year)
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


@asynccontextmanager
async def _worker_transaction(conn: AsyncConn) -> AsyncIterator[AsyncConn]:
    async with conn.transaction():
        await conn.execute(q("session_as_worker"))
        yield conn


async def run_job(pool: AsyncConnectionPool, job_id: UUID, *,
                  will_retry: Callable[[BaseException], bool] = lambda exc: False,
                  open_source: OpenSource | None = None,
                  limits: LoadLimits | None = None) -> str | None:
    """Run one attempt of `job_id`; returns the status it ended in (None: nothing to do).

    Bad input and cancels end the job here. A transient database error requeues the job (when
    `will_retry` says the queue will run it again) or fails it, then propagates to the queue.
    """
    limits = limits or LoadLimits.from_env()
    async with pool.connection() as pconn:
        row = await (await pconn.execute(q("job_claim"), {"job_id": job_id})).fetchone()
        if row is None:
            if await (await pconn.execute(q("job_cancelling_finish"), {"job_id": job_id})).fetchone():
                log.info("import %s was cancelled before it ran", job_id, extra={"job_id": str(job_id)})
                return "cancelled"
            log.info("import %s has already ended or does not exist: nothing to do", job_id,
                     extra={"job_id": str(job_id)})
            return None
        claim = Claim.from_row(row)
        progress = Progress(pconn, claim.job_id, claim.attempt, min_interval=limits.progress_interval,
                            cancel_check_interval=limits.cancel_check_interval)
        extra = {"job_id": str(job_id), "attempt": claim.attempt, "wheel_id": str(claim.wheel_id)}
        log.info("import %s: attempt %d starts", job_id, claim.attempt, extra=extra)
        started = time.monotonic()
        try:
            await pconn.execute(q("rejected_rows_clear"), {"job_id": job_id})
            reader = await open_reader(pconn, pool.conninfo, claim, limits, open_source)
            try:
                progress.total = reader.total_rows
                await progress.step("parsing", f"Läser fil... {reader.total_rows} rader", READ_DONE)
                totals = await load(pool, claim, reader, progress, limits)
            finally:
                await reader.close()
        except (UnreadableFile, BadRequest) as exc:
            await _fail(pool, pconn, claim, exc.code, exc.message, progress=progress)
            log.info("import %s failed: %s", job_id, exc.code, extra=extra)
            return "failed"
        except NoValidRows as exc:
            await _fail(pool, pconn, claim, exc.code, exc.message, progress=progress,
                        rejections=exc.rejections, processed=exc.processed, rejected=exc.rejected)
            log.info("import %s failed: no valid rows", job_id, extra=extra)
            return "failed"
        except ImportCancelled:
            await _end(pool, pconn, q("job_cancel_finish"), {"job_id": job_id, "attempt": claim.attempt})
            log.info("import %s cancelled; the wheel is unchanged", job_id, extra=extra)
            return "cancelled"
        except Superseded:
            log.warning("import %s: attempt %d was superseded; its work is rolled back",
                        job_id, claim.attempt, extra=extra)
            return None
        except psycopg.errors.IntegrityError as exc:
            # A row the validation let through and the schema refused: retrying cannot help.
            diag = exc.diag
            await _fail(pool, pconn, claim, "invalid_data",
                        f"Databasen avvisade en rad ({diag.constraint_name or type(exc).__name__}): "
                        f"{diag.message_primary or exc}", progress=progress)
            log.warning("import %s failed on a constraint", job_id, extra=extra, exc_info=True)
            return "failed"
        except (psycopg.OperationalError, TransientImportError) as exc:
            await _transient(pool, pconn, claim, exc, will_retry(exc), progress)
            raise
        except asyncio.CancelledError as exc:
            # The worker shuts down: the data transaction is gone; the queue runs the job again.
            await asyncio.shield(_transient(pool, pconn, claim, exc, will_retry(exc), progress))
            raise
        except Exception as exc:
            await _fail(pool, pconn, claim, "internal_error",
                        f"Ett internt fel avbröt importen ({type(exc).__name__})", progress=progress)
            log.exception("import %s failed on an internal error", job_id, extra=extra)
            raise
        log.info("import %s completed: %d items from %d rows (%d rejected) in %.3f s",
                 job_id, totals.items, totals.processed, totals.rejected, time.monotonic() - started,
                 extra={**extra, "progress_writes": progress.writes})
        return "completed"


async def load(pool: AsyncConnectionPool, claim: Claim, reader: Reader, progress: Progress,
               limits: LoadLimits) -> Totals:
    """The data transaction: lock the wheel, clear it (replace), stream the rows in, complete."""
    totals = Totals()
    async with as_worker(pool) as conn:
        params = {"wheel_id": claim.wheel_id}
        await lock_wheel(conn, claim.wheel_id, progress)
        if claim.mode == ImportMode.REPLACE:
            await progress.step("deleting", "Raderar befintlig data...")
            for name in ("items_delete_wheel", "wheel_pages_delete_wheel", "labels_delete_wheel",
                         "activity_groups_delete_wheel", "wheel_rings_delete_wheel"):
                await conn.execute(q(name), params)
            existing = Existing()
        else:
            existing = await read_existing(conn, claim.wheel_id)
        reader.start(Plan(existing=existing, wheel_id=claim.wheel_id, job_id=claim.job_id,
                          chunk_rows=limits.chunk_rows, max_rejections=limits.max_stored_rejections))
        try:
            async with ItemsCopy(conn, limits.statement_rows) as items:
                async for chunk in reader:
                    if chunk.new:
                        await items.end()  # parents cannot be inserted while a COPY is open
                        await _structure_progress(progress, chunk.new, totals)
                        await insert_structure(conn, claim.wheel_id, chunk.new)
                    if chunk.items:
                        await items.write(chunk.copy_data, chunk.items)
                    await _count(chunk, totals, progress)
        finally:
            await reader.close()

        if totals.activities == 0:
            raise NoValidRows("Ingen rad i filen kunde bli en aktivitet; se errors.csv",
                              totals.rejections, totals.rejected, totals.processed)
        await progress.step("finishing", "Slutför...", FINISHING)
        await conn.execute(q("wheel_pages_order_defer"))
        await conn.execute(q("wheel_pages_renumber"), params)
        await store_rejections(conn, claim.job_id, totals.rejections)
        done = await (await conn.execute(q("job_complete"), {
            "job_id": claim.job_id, "attempt": claim.attempt, "processed": totals.processed,
            "total": max(progress.total, totals.processed), "rejected": totals.rejected,
            "rings": totals.rings, "groups": totals.groups, "labels": totals.labels,
            "pages": totals.pages, "items": totals.items,
        })).fetchone()
        if done is None:
            # Cancelled (or taken over) between the last check and now: leaving the block by
            # an exception rolls everything back. The status read is of committed state, on
            # the progress connection, which does not wait on our lock of the row.
            await progress.check_cancel()
            raise Superseded(f"job {claim.job_id} changed under attempt {claim.attempt}")
        await defer_email_if_needed(conn, claim.job_id)
    return totals


async def lock_wheel(conn: AsyncConn, wheel_id: UUID, progress: Progress) -> None:
    """Take the wheel for this transaction; while another import has it, wait in slices and
    see a cancel between them (a savepoint keeps a timed-out attempt from ending the transaction)."""
    await conn.execute(q("lock_timeout_short"))
    waiting = False
    while True:
        try:
            async with conn.transaction():
                await conn.execute(q("wheel_lock"), {"wheel_id": wheel_id})
            break
        except psycopg.errors.LockNotAvailable:
            if not waiting:
                waiting = True
                await progress.step("parsing", "Väntar på en annan import till samma årshjul...")
            else:
                await progress.check_cancel()
    await conn.execute(q("lock_timeout_reset"))


async def _structure_progress(progress: Progress, new: NewStructure, totals: Totals) -> None:
    totals.rings += len(new.rings)
    totals.groups += len(new.groups)
    totals.labels += len(new.labels)
    totals.pages += len(new.pages)
    progress.counts.update(rings=totals.rings, groups=totals.groups, labels=totals.labels, pages=totals.pages)
    if new.rings:
        await progress.rows(progress.processed, progress.rejected, step="rings",
                            text=f"Skapar {len(new.rings)} ringar...")
    elif new.groups:
        await progress.rows(progress.processed, progress.rejected, step="groups",
                            text=f"Skapar {len(new.groups)} aktivitetsgrupper...")
    elif new.labels:
        await progress.rows(progress.processed, progress.rejected, step="labels",
                            text=f"Skapar {len(new.labels)} etiketter...")
    elif new.pages:
        years = ", ".join(str(p.year) for p in new.pages)
        await progress.rows(progress.processed, progress.rejected, step="pages",
                            text=f"Skapar sidor ({years})...")


async def read_existing(conn: AsyncConn, wheel_id: UUID) -> Existing:
    """What an append reuses: rings, groups and labels by lower-cased name, pages by year."""
    params = {"wheel_id": wheel_id}
    rings = await (await conn.execute(q("wheel_rings_existing"), params)).fetchall()
    groups = await (await conn.execute(q("activity_groups_existing"), params)).fetchall()
    labels = await (await conn.execute(q("labels_existing"), params)).fetchall()
    pages = await (await conn.execute(q("wheel_pages_existing"), params)).fetchall()
    return Existing(
        rings={r["key"]: r["id"] for r in rings},
        groups={g["key"]: g["id"] for g in groups},
        labels={lb["key"]: lb["id"] for lb in labels},
        pages={p["year"]: p["id"] for p in pages},
        max_ring_order=max((r["ring_order"] for r in rings), default=-1),
        max_page_order=max((p["page_order"] for p in pages), default=0),
    )


async def insert_structure(conn: AsyncConn, wheel_id: UUID, new: NewStructure) -> None:
    """Parents first: the items' statement trigger checks them at the end of each COPY."""
    async with conn.cursor() as cur:
        if new.rings:
            await cur.executemany(q("wheel_rings_insert"), [
                {"id": r.id, "wheel_id": wheel_id, "name": r.name, "type": r.type,
                 "color": r.color, "ring_order": r.ring_order} for r in new.rings])
        if new.groups:
            await cur.executemany(q("activity_groups_insert"), [
                {"id": g.id, "wheel_id": wheel_id, "name": g.name, "color": g.color}
                for g in new.groups])
        if new.labels:
            await cur.executemany(q("labels_insert"), [
                {"id": lb.id, "wheel_id": wheel_id, "name": lb.name, "color": lb.color}
                for lb in new.labels])
        if new.pages:
            await cur.executemany(q("wheel_pages_insert"), [
                {"id": p.id, "wheel_id": wheel_id, "year": p.year, "title": p.title,
                 "page_order": p.page_order} for p in new.pages])


class ItemsCopy:
    """One COPY of items kept open across chunks, ended only when new parents must go in first.

    Typical files bring their rings, groups and labels in the first chunks, so the rest of the
    file streams through one statement: the server inserts rows as they arrive, and the
    statement trigger checks the parents once, at the end. Leaving the block by an exception
    aborts the open COPY (psycopg sends CopyFail), and the transaction rolls back.
    """

    def __init__(self, conn: AsyncConn, statement_rows: int):
        self.conn = conn
        self.statement_rows = statement_rows
        self._rows = 0
        self._stack: contextlib.AsyncExitStack | None = None
        self._copy: Any = None

    async def write(self, data: bytes, rows: int) -> None:
        if self._copy is not None and self._rows + rows > self.statement_rows:
            await self.end()
        if self._copy is None:
            self._rows = 0
            stack = contextlib.AsyncExitStack()
            cur = await stack.enter_async_context(self.conn.cursor())
            self._copy = await stack.enter_async_context(cur.copy(q("items_copy")))
            self._stack = stack
        await self._copy.write(data)
        self._rows += rows

    async def end(self, exc: BaseException | None = None) -> None:
        stack, self._stack, self._copy = self._stack, None, None
        if stack is None:
            return
        if exc is None:
            await stack.aclose()
        else:
            await stack.__aexit__(type(exc), exc, exc.__traceback__)

    async def __aenter__(self) -> ItemsCopy:
        return self

    async def __aexit__(self, exc_type, exc, tb) -> None:
        await self.end(exc)


async def _count(chunk: Chunk, totals: Totals, progress: Progress) -> None:
    totals.processed += chunk.rows
    totals.rejected += chunk.rejected
    totals.activities += chunk.activities
    totals.items += chunk.items
    totals.rejections.extend(chunk.rejections)
    progress.counts["items"] = totals.items
    await progress.rows(totals.processed, totals.rejected)


async def store_rejections(conn: AsyncConn, job_id: UUID, rejections: list[Rejection]) -> None:
    if not rejections:
        return
    async with conn.cursor() as cur:
        await cur.executemany(q("rejected_rows_insert"), [
            {"job_id": job_id, "row_number": r.row_number, "column_name": r.column,
             "reason": r.reason, "raw_values": list(r.values)} for r in rejections])


# -- ending an attempt that did not complete ---------------------------------------------------

async def _end(pool: AsyncConnectionPool, pconn: AsyncConn, query: str, params: dict[str, Any],
               *, rejections: list[Rejection] = (), email: bool = False) -> bool:
    """Write the end of the attempt in one transaction, on the progress connection or, if that
    one is broken, on a fresh one. Returns whether the row was still this attempt's."""

    async def write(conn: AsyncConn) -> bool:
        async with _worker_transaction(conn):
            ended = await (await conn.execute(query, params)).fetchone() is not None
            if ended:
                await store_rejections(conn, params["job_id"], list(rejections))
                if email:
                    await defer_email_if_needed(conn, params["job_id"])
            return ended

    if not pconn.broken and not pconn.closed:
        try:
            return await write(pconn)
        except psycopg.OperationalError:
            log.warning("progress connection failed; ending job %s on a new one", params["job_id"])
    async with pool.connection() as conn:
        return await write(conn)


async def _fail(pool: AsyncConnectionPool, pconn: AsyncConn, claim: Claim, code: str, message: str,
                *, progress: Progress, rejections: list[Rejection] = (), processed: int = 0,
                rejected: int = 0) -> None:
    await _end(pool, pconn, q("job_fail"), {
        "job_id": claim.job_id, "attempt": claim.attempt, "code": code, "message": message,
        "details": Jsonb({"attempt": claim.attempt}),
        "processed": max(processed, progress.processed), "rejected": max(rejected, progress.rejected),
    }, rejections=rejections, email=True)


async def _transient(pool: AsyncConnectionPool, pconn: AsyncConn, claim: Claim, exc: BaseException,
                     retry: bool, progress: Progress) -> None:
    extra = {"job_id": str(claim.job_id), "attempt": claim.attempt, "will_retry": retry}
    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    try:
        if retry:
            await _end(pool, pconn, q("job_requeue"), {
                "job_id": claim.job_id, "attempt": claim.attempt, "message": reason})
            log.warning("import %s: attempt %d hit %s; it will be retried", claim.job_id,
                        claim.attempt, type(exc).__name__, extra=extra)
        else:
            await _fail(pool, pconn, claim, "internal_error",
                        f"Importen misslyckades efter {claim.attempt} försök: {reason}",
                        progress=progress)
            log.error("import %s failed after %d attempts: %s", claim.job_id, claim.attempt,
                      reason, extra=extra)
    except Exception:
        # The database is unreachable: the job stays `processing` until the maintenance task
        # sees its queue job has ended (or its worker stalled) and settles it.
        log.exception("import %s: could not record the end of attempt %d", claim.job_id,
                      claim.attempt, extra=extra)
