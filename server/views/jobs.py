"""Jobs: read, list, cancel, retry, and the rejected rows as errors.csv."""

from __future__ import annotations

import asyncio
import csv
import io
import logging
import uuid
from datetime import datetime
from typing import Any

from aiohttp import web

from importer.db import as_user_snapshot
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

log = logging.getLogger(__name__)

# Rejected rows per fetch of errors.csv's cursor: about 300 KB of CSV, formatted in ~10 ms, so
# the event loop is never held for long and the server holds one batch at a time.
ERRORS_CSV_BATCH = 1000
# A client that takes nothing for this long is let go: a stalled download must not hold one
# of the API pool's connections (and an open transaction) for ever.
WRITE_TIMEOUT_SECONDS = 60.0

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


class ErrorsCsv:
    """The rejected rows as a file a person corrects in Excel and imports again (API.md,
    "Language"): UTF-8 with BOM, `;` (what Swedish Excel opens), the file's own columns each in
    its own column between the row number (Rad) and the reason (Orsak), which the reader leaves
    out of every field when the file comes back. Every cell that would start a formula, header
    or value, starts with an apostrophe instead (`neutralise`); a `;` or quote inside a cell is
    quoted, so Excel splitting at `;` keeps it in its cell. A job no attempt has read yet has no headers:
    its cells go under Kolumn 1, 2, ... as many as the widest row (`width`: the most cells of
    any of its rows).

    Written a batch of rows at a time (`head()`, then `rows(batch)` for each batch), so the
    file is never whole in memory; the text of `head() + rows(all)` is the same whatever the
    batches.
    """

    def __init__(self, headers: list[str], width: int):
        self.width = max(len(headers), width)
        self.names = list(headers) + [f"Kolumn {i + 1}" for i in range(len(headers), self.width)]
        self._out = io.StringIO()
        self._writer = csv.writer(self._out, delimiter=";", lineterminator="\r\n")

    def _taken(self) -> str:
        text = self._out.getvalue()
        self._out.seek(0)
        self._out.truncate()
        return text

    def head(self) -> str:
        """The BOM and the header row."""
        self._out.write("\ufeff")  # the BOM makes Excel read UTF-8 (åäö) instead of the locale's code page
        # The file's own headers are the uploader's text like its cells: a header that starts a
        # formula is neutralised too (issue 17, finding 12), or opening the file would run it.
        self._writer.writerow([ROW_HEADER, *(neutralise(n) for n in self.names), REASON_HEADER])
        return self._taken()

    def rows(self, rows: list[dict[str, Any]]) -> str:
        """The lines of these rejected rows (`row_number`, `column_name`, `reason`, `raw_values`)."""
        for r in rows:
            values = list(r["raw_values"] or ())
            values += [""] * (self.width - len(values))
            reason = r["reason"] if not r["column_name"] or r["column_name"] in r["reason"] \
                else f"{r['column_name']}: {r['reason']}"
            self._writer.writerow([r["row_number"], *(neutralise(v) for v in values), neutralise(reason)])
        return self._taken()


def errors_csv_text(headers: list[str], rows: list[dict[str, Any]]) -> str:
    """The whole errors.csv of these rows at once (see ErrorsCsv): for small files and tests."""
    out = ErrorsCsv(headers, max((len(r["raw_values"] or ()) for r in rows), default=0))
    return out.head() + out.rows(rows)


async def errors_csv(request: web.Request) -> web.StreamResponse:
    """GET /api/imports/{job_id}/errors.csv: 200 text/csv of the rejected rows (Rad, the file's
    own columns, Orsak; `;`, UTF-8 with BOM, formulas neutralised), ready to correct and import
    again; 404 `not_found`.

    Streamed: the rows come from a server-side cursor ERRORS_CSV_BATCH at a time, each batch
    written (and sent) before the next is fetched, so memory stays flat however many rows a job
    has. A client that takes no batch for WRITE_TIMEOUT_SECONDS is disconnected, which gives the
    database connection back.
    """
    job_id = path_uuid(request, "job_id", "job")
    response: web.StreamResponse | None = None
    try:
        async with as_user_snapshot(request.app[keys.POOL], user_id(request)) as conn:
            headers = await lifecycle.headers(conn, job_id)
            if headers is None:
                raise NotFound.of("api.no_job")
            width = await (await conn.execute(q("rejected_rows_width"), {"job_id": job_id})).fetchone()
            out = ErrorsCsv(headers, width["width"] if width else 0)
            response = web.StreamResponse(headers={
                "Content-Type": "text/csv; charset=utf-8",
                "Content-Disposition": f'attachment; filename="import-{job_id}-errors.csv"'})
            await response.prepare(request)
            await _send(response, out.head())
            async with conn.cursor(name="errors_csv") as cursor:
                await cursor.execute(q("rejected_rows_list"), {"job_id": job_id})
                while batch := await cursor.fetchmany(ERRORS_CSV_BATCH):
                    await _send(response, out.rows(batch))
    except Exception as exc:
        if response is None or not response.prepared:
            raise  # nothing sent yet: the error middleware answers with the JSON error
        # The file has begun: no error body can follow. Closing the connection tells the
        # client the file is incomplete (a chunked body without its last chunk).
        if isinstance(exc, TimeoutError | ConnectionError):
            log.info("errors.csv of job %s not sent whole: %s", job_id, type(exc).__name__)
        else:
            log.exception("errors.csv of job %s failed after it began", job_id)
        if request.transport is not None:
            request.transport.close()
        return response
    await response.write_eof()
    return response


async def _send(response: web.StreamResponse, text: str) -> None:
    async with asyncio.timeout(WRITE_TIMEOUT_SECONDS):
        await response.write(text.encode("utf-8"))
