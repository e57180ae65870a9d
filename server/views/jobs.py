"""Jobs: read, list, cancel, retry, and the rejected rows as errors.csv."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import datetime
from typing import Any

from aiohttp import web

from importer.db import as_user
from importer.errors import BadRequest, Conflict, NotFound
from importer.model import RETRYABLE, TERMINAL, JobStatus
from importer.queries import q
from server import enqueue, keys
from server.auth import user_id
from server.views.common import json_response, path_uuid, query_int

NIL_UUID = uuid.UUID(int=0)
# What makes a spreadsheet read a cell as a formula (OWASP "CSV injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


async def get(request: web.Request) -> web.Response:
    job_id = path_uuid(request, "job_id", "job")
    async with as_user(request.app[keys.POOL], user_id(request)) as conn:
        row = await (await conn.execute(q("import_job_get"), {"job_id": job_id})).fetchone()
    if row is None:
        raise NotFound("No such job.")
    return json_response(row["job"])


def _status_filter(request: web.Request) -> str | None:
    status = request.query.get("status") or None
    if status is not None and status not in set(JobStatus):
        raise BadRequest(f"status must be one of {', '.join(JobStatus)}.", details={"parameter": "status"})
    return status


def _wheel_filter(request: web.Request) -> uuid.UUID | None:
    raw = request.query.get("wheel_id") or None
    if raw is None:
        return None
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise BadRequest("wheel_id must be a UUID.", details={"parameter": "wheel_id"}) from None


async def _cursor(conn, raw: str | None) -> tuple[datetime | None, uuid.UUID]:
    """`before`: a job id (the last of the previous page) or an ISO 8601 timestamp."""
    if not raw:
        return None, NIL_UUID
    try:
        job_id = uuid.UUID(raw)
    except ValueError:
        pass
    else:
        row = await (await conn.execute(q("import_job_cursor"), {"job_id": job_id})).fetchone()
        if row is None:
            raise BadRequest("before names no job of yours.", details={"parameter": "before"})
        return row["created_at"], row["id"]
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest("before must be a job id or an ISO 8601 timestamp.",
                         details={"parameter": "before"}) from None
    if moment.tzinfo is None:
        raise BadRequest("before must carry a time zone (e.g. Z).", details={"parameter": "before"})
    return moment, NIL_UUID


async def list_own(request: web.Request) -> web.Response:
    status, wheel_id = _status_filter(request), _wheel_filter(request)
    limit = query_int(request, "limit", default=20, low=1, high=100)
    async with as_user(request.app[keys.POOL], user_id(request)) as conn:
        before_at, before_id = await _cursor(conn, request.query.get("before"))
        rows = await (await conn.execute(q("import_job_list"), {
            "status": status, "wheel_id": wheel_id, "before_at": before_at, "before_id": before_id,
            "limit": limit})).fetchall()
    return json_response({"jobs": [r["job"] for r in rows]})


async def cancel(request: web.Request) -> web.Response:
    job_id = path_uuid(request, "job_id", "job")
    async with as_user(request.app[keys.POOL], user_id(request)) as conn:
        row = await (await conn.execute(q("import_job_lock"), {"job_id": job_id})).fetchone()
        if row is None:
            raise NotFound("No such job.")
        status = row["status"]
        if status in TERMINAL:
            raise Conflict(f"The job has already ended ({status}).", code="job_finished",
                           details={"status": status})
        if status == JobStatus.PENDING:
            job = (await (await conn.execute(q("import_job_cancel_pending"), {"job_id": job_id})).fetchone())["job"]
            if row["procrastinate_job_id"] is not None:
                # Its queued task too, in the same transaction (a task already taken by a
                # worker is not `todo` any more; that worker's claim then skips the job).
                await request.app[keys.PROCRASTINATE].job_manager.cancel_job_by_id_async(
                    row["procrastinate_job_id"], connection=conn)
        elif status == JobStatus.PROCESSING:
            job = (await (await conn.execute(q("import_job_cancel_running"), {"job_id": job_id})).fetchone())["job"]
        else:  # cancelling already: nothing more to do
            job = (await (await conn.execute(q("import_job_get"), {"job_id": job_id})).fetchone())["job"]
    return json_response(job, status=202)


async def retry(request: web.Request) -> web.Response:
    job_id = path_uuid(request, "job_id", "job")
    uid = user_id(request)
    settings = request.app[keys.SETTINGS]
    async with as_user(request.app[keys.POOL], uid) as conn:
        row = await (await conn.execute(q("import_job_lock"), {"job_id": job_id})).fetchone()
        if row is None:
            raise NotFound("No such job.")
        if row["status"] not in RETRYABLE:
            raise Conflict(f"Only a failed or cancelled job can be retried, not a {row['status']} one.",
                           code="job_not_retryable", details={"status": row["status"]})
        admission = await enqueue.admit(conn, user_id=uid, wheel_id=row["wheel_id"],
                                        max_active=settings.max_active_jobs, idempotency_key=None)
        inserted = await enqueue.insert_job(conn, user_id=uid, admission=admission, job=enqueue.NewJob(
            wheel_id=row["wheel_id"], file_id=row["file_id"], file_name=row["file_name"],
            mode=row["mode"], mapping=row["mapping"], notify=row["notify"], retry_of=job_id))
    job = await enqueue.inserted_job(inserted)
    return json_response(job, status=202, headers={"Location": job["links"]["self"]})


def neutralise(cell: str) -> str:
    """A cell a spreadsheet would run as a formula, made plain text by a leading apostrophe."""
    return "'" + cell if cell.startswith(FORMULA_START) else cell


def errors_csv_text(rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    # The BOM makes Excel read UTF-8 (åäö) instead of the locale's code page.
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["row", "column", "reason", "values"])
    for r in rows:
        values = " | ".join(r["raw_values"] or ())
        writer.writerow([r["row_number"], neutralise(r["column_name"] or ""), neutralise(r["reason"]),
                         neutralise(values)])
    return out.getvalue()


async def errors_csv(request: web.Request) -> web.Response:
    job_id = path_uuid(request, "job_id", "job")
    async with as_user(request.app[keys.POOL], user_id(request)) as conn:
        if await (await conn.execute(q("import_job_exists"), {"job_id": job_id})).fetchone() is None:
            raise NotFound("No such job.")
        rows = await (await conn.execute(q("rejected_rows_list"), {"job_id": job_id})).fetchall()
    return web.Response(
        body=errors_csv_text(rows).encode("utf-8"),
        headers={"Content-Type": "text/csv; charset=utf-8",
                 "Content-Disposition": f'attachment; filename="import-{job_id}-errors.csv"'})
