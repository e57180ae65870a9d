"""Jobs: read, list, cancel, retry, and the rejected rows as errors.csv."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import datetime
from typing import Any

from aiohttp import web

from importer.db import as_user
from importer.errors import BadRequest, Forbidden, NotFound
from importer.jobs import lifecycle
from importer.messages import use_language
from importer.model import JobStatus
from importer.queries import q
from importer.read.validate import FORMULA_START
from server import keys
from server.auth import is_operator, user_id
from server.language import request_language
from server.views.common import json_response, path_uuid, query_int

# errors.csv's own columns around the file's: the row number and why it was rejected; the
# reader leaves both out of every field when the corrected file is imported (columns._NOISE).
ROW_HEADER = "Rad"
REASON_HEADER = "Orsak"


# An operator (a token with `role: service_role`, API.md "Authentication") may list, read,
# cancel and retry every user's jobs, and follow any job's event stream (a read of the same
# job object); nothing else: errors.csv (the user's own rows) and /api/events stay the
# user's. The database enforces it (schema/0014, importer.db.as_operator).


async def get(request: web.Request) -> web.Response:
    """GET /api/imports/{job_id}: 200 with the job object; 404 `not_found` (none, or not yours;
    an operator reads every user's)."""
    job = await lifecycle.get(request.app[keys.POOL], user_id=user_id(request),
                              job_id=path_uuid(request, "job_id", "job"), operator=is_operator(request))
    return json_response(job.data)


def _status_filter(request: web.Request) -> JobStatus | None:
    status = request.query.get("status") or None
    if status is None:
        return None
    try:
        return JobStatus(status)
    except ValueError:
        raise BadRequest.of("api.bad_status", params={"allowed": ", ".join(JobStatus)},
                            details={"parameter": "status"}) from None


def _wheel_filter(request: web.Request) -> uuid.UUID | None:
    raw = request.query.get("wheel_id") or None
    if raw is None:
        return None
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise BadRequest.of("api.bad_wheel_id", details={"parameter": "wheel_id"}) from None


def _before(raw: str | None) -> uuid.UUID | datetime | None:
    """`before`: a job id (the last of the previous page) or an ISO 8601 timestamp with a zone."""
    if not raw:
        return None
    try:
        return uuid.UUID(raw)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest.of("api.bad_before", details={"parameter": "before"}) from None
    if moment.tzinfo is None:
        raise BadRequest.of("api.before_no_zone", details={"parameter": "before"})
    return moment


def _every_user(request: web.Request) -> bool:
    """`all=true`: every user's jobs, which only an operator may list (403 `forbidden` for
    anyone else, rather than quietly their own: a script that asked for all must not take its
    own jobs for everyone's)."""
    raw = request.query.get("all")
    if raw is None or raw == "false":
        return False
    if raw != "true":
        raise BadRequest.of("api.bad_all", details={"parameter": "all"})
    if not is_operator(request):
        raise Forbidden.of("api.operators_only", details={"parameter": "all"})
    return True


async def list_own(request: web.Request) -> web.Response:
    """GET /api/imports[?status=&wheel_id=&before=&limit=&all=]: 200 `{"jobs": [...]}`, newest
    first; the user's own, or with `all=true` every user's (operators only, else 403
    `forbidden`); 400 `bad_request` for a bad filter, `all` (true or false), limit (1-100) or
    `before` (not a job the listing sees)."""
    every_user = _every_user(request)
    status, wheel_id = _status_filter(request), _wheel_filter(request)
    limit = query_int(request, "limit", default=20, low=1, high=100)
    assert limit is not None
    jobs = await lifecycle.list_jobs(request.app[keys.POOL], user_id=user_id(request), status=status,
                                     wheel_id=wheel_id, before=_before(request.query.get("before")),
                                     limit=limit, every_user=every_user)
    return json_response({"jobs": [job.data for job in jobs]})


async def cancel(request: web.Request) -> web.Response:
    """POST /api/imports/{job_id}/cancel: 202 with the job (`cancelled`, or `cancelling` while
    its worker rolls back); 404 `not_found` (an operator cancels every user's); 409
    `job_finished` for a job that has ended."""
    job = await lifecycle.cancel(request.app[keys.POOL], request.app[keys.PROCRASTINATE],
                                 user_id=user_id(request), job_id=path_uuid(request, "job_id", "job"),
                                 operator=is_operator(request))
    return json_response(job.data, status=202)


async def retry(request: web.Request) -> web.Response:
    """POST /api/imports/{job_id}/retry: 202 with a new job importing the same file, `Location`
    its URL; 404 `not_found`; an operator retries every user's job, as its owner (the new job is
    the owner's); 409 `job_not_retryable` (not failed or cancelled); 429
    `too_many_active_jobs` with `Retry-After`."""
    with use_language(request_language(request)):  # the new job's language (lifecycle.NewJob)
        job = await lifecycle.retry(request.app[keys.POOL], request.app[keys.PROCRASTINATE],
                                    user_id=user_id(request), job_id=path_uuid(request, "job_id", "job"),
                                    max_active=request.app[keys.SETTINGS].max_active_jobs,
                                    operator=is_operator(request))
    return json_response(job.data, status=202, headers={"Location": job.location})


def neutralise(cell: str) -> str:
    """A cell a spreadsheet would run as a formula, made plain text by a leading apostrophe
    (which the reader takes off again when the corrected file comes back: validate.unquote)."""
    return "'" + cell if cell.startswith(FORMULA_START) else cell


def errors_csv_text(headers: list[str], rows: list[dict[str, Any]]) -> str:
    """The rejected rows as a file a person corrects in Excel and imports again (API.md,
    "Language"): UTF-8 with BOM, `;` (what Swedish Excel opens), the file's own columns each in
    its own column between the row number (Rad) and the reason (Orsak), which the reader leaves
    out of every field when the file comes back. A job no attempt has read yet has no headers:
    its cells go under Kolumn 1, 2, ... as many as the widest row."""
    width = max([len(headers), *(len(r["raw_values"] or ()) for r in rows)])
    names = list(headers) + [f"Kolumn {i + 1}" for i in range(len(headers), width)]
    out = io.StringIO()
    out.write("\ufeff")  # the BOM makes Excel read UTF-8 (åäö) instead of the locale's code page
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([ROW_HEADER, *names, REASON_HEADER])
    for r in rows:
        values = list(r["raw_values"] or ())
        values += [""] * (width - len(values))
        reason = r["reason"] if not r["column_name"] or r["column_name"] in r["reason"] \
            else f"{r['column_name']}: {r['reason']}"
        writer.writerow([r["row_number"], *(neutralise(v) for v in values), neutralise(reason)])
    return out.getvalue()


async def errors_csv(request: web.Request) -> web.Response:
    """GET /api/imports/{job_id}/errors.csv: 200 text/csv of the rejected rows (Rad, the file's
    own columns, Orsak; `;`, UTF-8 with BOM, formulas neutralised), ready to correct and import
    again; 404 `not_found`."""
    job_id = path_uuid(request, "job_id", "job")
    async with as_user(request.app[keys.POOL], user_id(request)) as conn:
        headers = await lifecycle.headers(conn, job_id)
        if headers is None:
            raise NotFound.of("api.no_job")
        rows = await (await conn.execute(q("rejected_rows_list"), {"job_id": job_id})).fetchall()
    return web.Response(
        body=errors_csv_text(headers, rows).encode("utf-8"),
        headers={"Content-Type": "text/csv; charset=utf-8",
                 "Content-Disposition": f'attachment; filename="import-{job_id}-errors.csv"'})
