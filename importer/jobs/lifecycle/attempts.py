"""The worker's transitions of an import job: claim, progress, complete, fail, cancel,
requeue, and settling orphans. Each runs on the connection it is given, in its transaction."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from psycopg.types.json import Jsonb

from importer.db import AsyncConn, unflushed_transaction
from importer.jobs.lifecycle.values import Claim, ProgressReport, Totals
from importer.messages import LANGUAGES, render_in, warning_objects
from importer.model import ACTIVE, JobStatus, JobWarning
from importer.queries import q


async def claim(conn: AsyncConn, job_id: UUID) -> Claim | JobStatus | None:
    """Start an attempt: the Claim; else `cancelled` when the job was cancelled while its task
    waited (it is ended here, nothing was written), else None (ended already, or no such job)."""
    async with unflushed_transaction(conn):
        claimed = await conn.execute(q("job_claim"), {"job_id": job_id, "texts": by_language("job.reading")})
    row = await claimed.fetchone()
    if row is not None:
        return Claim.from_row(row)
    if await _end(conn, job_id, JobStatus.CANCELLED, from_=(JobStatus.CANCELLING,)):
        return JobStatus.CANCELLED
    return None


def by_language(key: str, /, **params: object) -> Jsonb:
    """A catalogue text in every language, `{"sv": ..., "en": ...}`: the SQL that writes a
    job's current step or error picks the job's language (import_jobs.language, schema/0012)."""
    return Jsonb({language: render_in(language, key, **params) for language in LANGUAGES})


async def write_progress(conn: AsyncConn, claim: Claim, report: ProgressReport) -> JobStatus | None:
    """Write one progress report (with the file's warnings and headers when it carries them:
    they are shown while the import runs and after it has ended, whatever the end); returns the
    job's status (`cancelling` asks the attempt to stop), or None when the row is no longer this
    attempt's."""
    notes = report.file
    async with unflushed_transaction(conn):
        written = await conn.execute(q("job_progress_set"), {
            "job_id": claim.job_id, "attempt": claim.attempt, "step": report.step, "text": report.text[:200],
            "progress": report.percent, "processed": report.processed, "total": report.total,
            "rejected": report.rejected, "eta": report.eta_seconds, **report.counts,
            "headers": None if notes is None else list(notes.headers),
            "warnings": None if notes is None else Jsonb(warning_objects(notes.warnings, claim.language),
                                                         dumps=_dumps)})
    row = await written.fetchone()
    return None if row is None else JobStatus(row["status"])


def _dumps(value: Any) -> str:
    return json.dumps(value, default=str)


async def status_of(conn: AsyncConn, job_id: UUID, attempt: int) -> JobStatus | None:
    """The job's committed status, or None when another attempt owns the row now."""
    row = await (await conn.execute(q("job_status_get"), {"job_id": job_id})).fetchone()
    return JobStatus(row["status"]) if row and row["attempts"] == attempt else None


async def complete(conn: AsyncConn, claim: Claim, totals: Totals,
                   warnings: Sequence[JobWarning] = ()) -> bool:
    """Mark the attempt completed, in its data transaction, adding `warnings` (what only the
    whole file showed) and a `duplicate_items` warning when items were already on the wheel.
    False: the job was cancelled or taken over meanwhile, and the caller must roll its data back."""
    found = list(warnings)
    if totals.duplicates:
        found.append(JobWarning(code="duplicate_items", details={
            "count": totals.duplicates, "skipped": totals.skipped_duplicates > 0}))
    row = await (await conn.execute(q("job_complete"), {
        "job_id": claim.job_id, "attempt": claim.attempt, "processed": totals.processed,
        "total": totals.total, "rejected": totals.rejected, "rings": totals.rings,
        "groups": totals.groups, "labels": totals.labels, "pages": totals.pages,
        "items": totals.items, "skipped_duplicates": totals.skipped_duplicates,
        "texts": by_language("job.completed"),
        "warnings": Jsonb(warning_objects(found, claim.language), dumps=_dumps)})).fetchone()
    return row is not None


async def fail(conn: AsyncConn, claim: Claim, *, code: str, message: str | dict[str, str], processed: int = 0,
               rejected: int = 0) -> bool:
    """End the attempt `failed` with an error code and a message for a person (cut at 2,000
    characters): one text, or one per language (`{"sv": ..., "en": ...}`, the job's is kept).
    False: the row is no longer this attempt's."""
    return await _end(conn, claim.job_id, JobStatus.FAILED, attempt=claim.attempt,
                      from_=(JobStatus.PROCESSING, JobStatus.CANCELLING), code=code, message=message,
                      details={"attempt": claim.attempt}, processed=processed, rejected=rejected)


async def cancelled(conn: AsyncConn, claim: Claim) -> bool:
    """End the attempt `cancelled` (it saw `cancelling` and rolled back)."""
    return await _end(conn, claim.job_id, JobStatus.CANCELLED, attempt=claim.attempt,
                      from_=(JobStatus.PROCESSING, JobStatus.CANCELLING))


async def requeue(conn: AsyncConn, claim: Claim, reason: str) -> bool:
    """Put the job back in the queue after a transient failure the queue will retry; the
    attempt count is kept, `reason` is shown in its current step."""
    return await _end(conn, claim.job_id, JobStatus.PENDING, attempt=claim.attempt,
                      from_=(JobStatus.PROCESSING,), texts=by_language("job.retry_soon", reason=reason))


async def settle_orphans(conn: AsyncConn) -> list[UUID]:
    """End the active jobs whose queue task has ended for good without recording an end (the
    database was unreachable at that moment): `cancelling` ones cancelled, others failed."""
    rows = await (await conn.execute(q("import_jobs_orphans_settle"), {
        "cancelled": by_language("job.cancelled"), "failed": by_language("job.failed"),
        "lost": by_language("job.lost")})).fetchall()
    return [row["id"] for row in rows]


#: The current step a job ends with, by its end status (in the job's language).
END_TEXTS = {JobStatus.FAILED: "job.failed", JobStatus.CANCELLED: "job.cancelled", JobStatus.PENDING: "job.waiting"}


async def _end(conn: AsyncConn, job_id: UUID, status: JobStatus, *, from_: tuple[JobStatus, ...],
               attempt: int | None = None, texts: Jsonb | None = None, code: str | None = None,
               message: str | dict[str, str] | None = None, details: dict[str, Any] | None = None,
               processed: int = 0, rejected: int = 0) -> bool:
    assert status not in ACTIVE or status == JobStatus.PENDING
    if isinstance(message, str):
        message = dict.fromkeys(LANGUAGES, message)
    row = await (await conn.execute(q("job_end"), {
        "job_id": job_id, "status": status.value, "from": [s.value for s in from_],
        "attempt": attempt, "texts": texts if texts is not None else by_language(END_TEXTS[status]),
        "code": code, "messages": Jsonb(message) if message is not None else None,
        "details": Jsonb(details) if details is not None else None,
        "processed": processed, "rejected": rejected})).fetchone()
    return row is not None
