"""Submitting an import: the body received (server/views/upload.py), then a job, answered
before anything is loaded."""

from __future__ import annotations

from uuid import UUID

from aiohttp import web

from importer.jobs import lifecycle
from server import admission, keys
from server.auth import user_id
from server.language import request_language
from server.views.common import json_response, path_uuid
from server.views.upload import Upload, body_reader, receive
from server.views.upload_fields import idempotency_key


async def submit(request: web.Request) -> web.Response:
    """POST /api/wheels/{wheel_id}/imports (multipart/form-data, a raw CSV or workbook body, or
    application/json):
    202 with the new job and `Location`; 200 with the first job for a replayed `Idempotency-Key`.
    400 (bad mode, mapping, notify, sheet, body), 404 `not_found` (no such wheel of yours), 413
    `payload_too_large` (while streaming), 415 `unsupported_media_type`, 422 (the file cannot be
    an import: `not_text`, `no_header`, `no_usable_column`, `no_data_rows`, `workbook_encrypted`,
    `workbook_damaged`, `workbook_too_large` ...), 429
    `too_many_active_jobs`, `too_many_uploads` or `storage_quota_exceeded` with `Retry-After`.
    Every refusal but a bad body's comes before the body is read (server/admission.py).
    Answered before anything is loaded."""
    wheel_id = path_uuid(request, "wheel_id", "wheel")
    key = idempotency_key(request)
    body_reader(request)  # 415 and a too large Content-Length need no query
    async with admission.admitted(request, wheel_id, starts_job=True, idempotency_key=key):
        upload = await receive(request)
        try:
            submitted = await submit_upload(request, wheel_id, upload, key)
        finally:
            upload.close()
    job = submitted.job
    return json_response(job.data, status=202 if submitted.created else 200,
                         headers={"Location": job.location})


async def submit_upload(request: web.Request, wheel_id: UUID, upload: Upload,
                        key: str | None) -> lifecycle.Submitted:
    """The job of a received upload, under the limits checked again where it is inserted."""
    settings = request.app[keys.SETTINGS]
    return await lifecycle.submit(
        request.app[keys.POOL], request.app[keys.PROCRASTINATE], user_id=user_id(request),
        job=lifecycle.NewJob(wheel_id=wheel_id, file_name=upload.file_name, mode=upload.mode,
                             mapping=upload.mapping, notify=upload.notify, date_order=upload.date_order,
                             skip_duplicates=upload.skip_duplicates, sheet=upload.sheet,
                             language=request_language(request)),
        file=upload.body.stored(),
        max_active=settings.max_active_jobs, idempotency_key=key,
        max_stored=settings.max_stored_bytes_per_user)
