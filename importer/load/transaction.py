"""The data transaction of an import attempt: lock the wheel, clear it (replace), insert the
parents, COPY the items, store the rejected rows, complete the job; all or nothing."""

from __future__ import annotations

import contextlib
from types import TracebackType
from typing import Any
from uuid import UUID

import attrs
import psycopg

from importer.db import AsyncConn, Pool, as_worker
from importer.errors import NoValidRows, Superseded
from importer.jobs import lifecycle
from importer.jobs.lifecycle import Claim, Totals
from importer.load.produce import Chunk, Plan
from importer.load.progress import FINISHING, Progress
from importer.load.readers import ProcessReader, ThreadReader
from importer.mail.email_task import defer_email_if_needed
from importer.messages import render
from importer.model import Existing, ImportMode, NewStructure, Rejection
from importer.queries import q
from importer.read.findings import Findings
from importer.settings import Settings

Reader = ThreadReader | ProcessReader


@attrs.define
class Tally:
    """What the data transaction has done so far (uncommitted until it completes)."""

    processed: int = 0
    rejected: int = 0
    activities: int = 0
    items: int = 0
    rings: int = 0
    groups: int = 0
    labels: int = 0
    pages: int = 0
    rejections: list[Rejection] = attrs.Factory(list)
    findings: Findings = attrs.Factory(Findings)


async def load(pool: Pool, claim: Claim, reader: Reader, progress: Progress,
               settings: Settings) -> Tally:
    """The data transaction: lock the wheel, clear it (replace), stream the rows in, complete.

    `completed`, the rejected rows and the e-mail's queueing commit with the items, or nothing
    does. Raises NoValidRows when no row became an activity, ImportCancelled or Superseded when
    the job changed under the attempt; leaving by any exception rolls everything back.
    """
    limits = settings.load
    totals = Tally()
    async with as_worker(pool) as conn:
        params = {"wheel_id": claim.wheel_id}
        await lock_wheel(conn, claim.wheel_id, progress)
        if claim.mode == ImportMode.REPLACE:
            await progress.step("deleting", render("job.deleting"))
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
            raise NoValidRows(render("job.no_valid_rows"),
                              totals.rejections, totals.rejected, totals.processed)
        await progress.step("finishing", render("job.finishing"), FINISHING)
        duplicates = skipped = 0
        if claim.mode == ImportMode.APPEND and existing.pages:
            # Only a wheel that had pages can have had items: a first import pays nothing.
            found = await (await conn.execute(q(
                "items_duplicates_delete" if claim.skip_duplicates else "items_duplicates_count"),
                {"wheel_id": claim.wheel_id, "job_id": claim.job_id})).fetchone()
            duplicates = found["n"] if found else 0
            skipped = duplicates if claim.skip_duplicates else 0
            totals.items -= skipped
        # The last statements in one pipeline: one round trip up to the completion's answer.
        async with conn.pipeline():
            await conn.execute(q("wheel_pages_order_defer"))
            await conn.execute(q("wheel_pages_renumber"), params)
            await store_rejections(conn, claim.job_id, totals.rejections)
            done = await lifecycle.complete(conn, claim, Totals(
                processed=totals.processed, total=max(progress.total, totals.processed),
                rejected=totals.rejected, rings=totals.rings, groups=totals.groups, labels=totals.labels,
                pages=totals.pages, items=totals.items, duplicates=duplicates, skipped_duplicates=skipped),
                warnings=totals.findings.warnings())
        if not done:
            # Cancelled (or taken over) between the last check and now: leaving the block by
            # an exception rolls everything back. The status read is of committed state, on
            # the progress connection, which does not wait on our lock of the row.
            await progress.check_cancel()
            raise Superseded(f"job {claim.job_id} changed under attempt {claim.attempt}")
        await defer_email_if_needed(conn, claim.job_id, settings=settings, created_items=totals.items)
    return totals


async def lock_wheel(conn: AsyncConn, wheel_id: UUID, progress: Progress) -> None:
    """Take the wheel for this transaction; while another import has it, wait in slices and
    see a cancel between them (a savepoint keeps a timed-out attempt from ending the transaction)."""
    if await (await conn.execute(q("wheel_lock_now"), {"wheel_id": wheel_id})).fetchone() is not None:
        return
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
                await progress.step("parsing", render("job.waiting_for_wheel"))
            else:
                await progress.check_cancel()
    await conn.execute(q("lock_timeout_reset"))


async def _structure_progress(progress: Progress, new: NewStructure, totals: Tally) -> None:
    totals.rings += len(new.rings)
    totals.groups += len(new.groups)
    totals.labels += len(new.labels)
    totals.pages += len(new.pages)
    progress.counts.update(rings=totals.rings, groups=totals.groups, labels=totals.labels, pages=totals.pages)
    if new.rings:
        await progress.rows(progress.processed, progress.rejected, step="rings",
                            text=render("job.creating_rings", count=len(new.rings)))
    elif new.groups:
        await progress.rows(progress.processed, progress.rejected, step="groups",
                            text=render("job.creating_groups", count=len(new.groups)))
    elif new.labels:
        await progress.rows(progress.processed, progress.rejected, step="labels",
                            text=render("job.creating_labels", count=len(new.labels)))
    elif new.pages:
        years = ", ".join(str(p.year) for p in new.pages)
        await progress.rows(progress.processed, progress.rejected, step="pages",
                            text=render("job.creating_pages", years=years))


async def read_existing(conn: AsyncConn, wheel_id: UUID) -> Existing:
    """What an append reuses: rings, groups and labels by lower-cased name, pages by year."""
    params = {"wheel_id": wheel_id}
    # In one pipeline: the four statements travel together, one round trip instead of four.
    async with conn.pipeline():
        cursors = [await conn.execute(q(name), params) for name in (
            "wheel_rings_existing", "activity_groups_existing", "labels_existing", "wheel_pages_existing")]
        rings, groups, labels, pages = [await cur.fetchall() for cur in cursors]
    return Existing(
        rings={r["key"]: r["id"] for r in rings},
        groups={g["key"]: g["id"] for g in groups},
        labels={lb["key"]: lb["id"] for lb in labels},
        pages={p["year"]: p["id"] for p in pages},
        max_ring_order=max((r["ring_order"] for r in rings), default=-1),
        max_page_order=max((p["page_order"] for p in pages), default=0),
    )


async def insert_structure(conn: AsyncConn, wheel_id: UUID, new: NewStructure) -> None:
    """Parents first: the items' statement trigger checks them at the end of each COPY. In one
    pipeline, so that rings, groups, labels and pages cost one round trip together."""
    async with conn.pipeline(), conn.cursor() as cur:
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

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.end(exc)


async def _count(chunk: Chunk, totals: Tally, progress: Progress) -> None:
    totals.processed += chunk.rows
    totals.rejected += chunk.rejected
    totals.activities += chunk.activities
    totals.items += chunk.items
    totals.rejections.extend(chunk.rejections)
    totals.findings = chunk.findings
    progress.counts["items"] = totals.items
    await progress.rows(totals.processed, totals.rejected)


async def store_rejections(conn: AsyncConn, job_id: UUID, rejections: list[Rejection]) -> None:
    if not rejections:
        return
    async with conn.cursor() as cur:
        await cur.executemany(q("rejected_rows_insert"), [
            {"job_id": job_id, "row_number": r.row_number, "column_name": r.column,
             "reason": r.reason, "raw_values": list(r.values)} for r in rejections])
