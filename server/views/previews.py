"""Review before import: upload once, see what the import would do, adjust, import the stored file."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from importer.errors import BadRequest
from importer.messages import use_language
from importer.model import ImportMode
from importer.previews import store
from importer.previews.runner import PreviewRunner
from server import admission, keys
from server.auth import user_id
from server.language import request_language
from server.views.common import json_object, json_response, path_uuid
from server.views.upload import body_reader, receive
from server.views.upload_fields import (
    idempotency_key,
    parse_date_order,
    parse_mapping,
    parse_mode,
    parse_notify,
    parse_sheet,
)

#: The app's preview runner (child processes), made and closed by `runner_ctx`.
RUNNER = web.AppKey("preview_runner", PreviewRunner)


async def runner_ctx(app: web.Application) -> AsyncIterator[None]:
    """Cleanup context: the preview runner's child processes live as long as the app."""
    runner = PreviewRunner()
    app[RUNNER] = runner
    try:
        yield
    finally:
        runner.close()


async def create(request: web.Request) -> web.Response:
    """POST /api/wheels/{wheel_id}/previews, with the body forms of an import (plus `mapping`,
    `date_order`, `sheet`): 201 with the preview and `Location`; nothing is written to the wheel.
    400 (bad mapping, date_order, sheet, body), 404 `not_found` (no such wheel of yours), 413
    `payload_too_large`, 415 `unsupported_media_type`, 422 (the file cannot be an import), 429
    `too_many_uploads` or `storage_quota_exceeded` with `Retry-After`. Every refusal but a bad
    body's comes before the body is read (server/admission.py); a preview starts no job, so the
    active-jobs limit waits for its import."""
    wheel_id = path_uuid(request, "wheel_id", "wheel")
    body_reader(request)  # 415 and a too large Content-Length need no query
    async with admission.admitted(request, wheel_id, starts_job=False):
        upload = await receive(request)
        with upload.body.spool, use_language(request_language(request)):  # the preview's texts (plan.py)
            preview = await store.create(
                request.app[keys.POOL], request.app[RUNNER], user_id=user_id(request), wheel_id=wheel_id,
                file=upload.body.stored(), file_name=upload.file_name,
                choices=store.Choices(mapping=upload.mapping, date_order=upload.date_order, sheet=upload.sheet),
                max_stored=request.app[keys.SETTINGS].max_stored_bytes_per_user)
    return json_response(preview, status=201, headers={"Location": preview["links"]["self"]})


async def get(request: web.Request) -> web.Response:
    """GET /api/previews/{preview_id}: 200 the preview; 404 `not_found` (none, not yours, expired)."""
    preview = await store.get(request.app[keys.POOL], user_id=user_id(request),
                              preview_id=path_uuid(request, "preview_id", "preview"))
    return json_response(preview)


async def change(request: web.Request) -> web.Response:
    """PATCH /api/previews/{preview_id} `{"mapping"?, "date_order"?, "sheet"?}`: 200 the preview
    recomputed from the stored file (a field left out keeps its value; null clears it); 400 for a
    bad field, 404 `not_found`, 422 when the new choices cannot read the file."""
    preview_id = path_uuid(request, "preview_id", "preview")
    body = await json_object(request)
    unknown = set(body) - {"mapping", "date_order", "sheet"}
    if unknown:
        raise BadRequest.of("api.unknown_fields", params={"fields": ", ".join(sorted(unknown))},
                            details={"fields": sorted(unknown)})
    changes: dict[str, Any] = {}
    if "mapping" in body:
        changes["mapping"] = _mapping(body["mapping"])
    if "date_order" in body:
        changes["date_order"] = parse_date_order(_optional_text(body, "date_order"))
    if "sheet" in body:
        changes["sheet"] = parse_sheet(_optional_text(body, "sheet"))
    with use_language(request_language(request)):  # the preview's texts (importer/previews/plan.py)
        preview = await store.change(request.app[keys.POOL], request.app[RUNNER], user_id=user_id(request),
                                     preview_id=preview_id, changes=changes)
    return json_response(preview)


async def start_import(request: web.Request) -> web.Response:
    """POST /api/previews/{preview_id}/imports `{"mode"?, "notify"?, "skip_duplicates"?}`: 202 the
    job (200 for a replayed `Idempotency-Key`), exactly as an upload of that file with the
    preview's choices; 400, 404 `not_found`, 429 `too_many_active_jobs` with `Retry-After`."""
    preview_id = path_uuid(request, "preview_id", "preview")
    body = await json_object(request) if request.can_read_body else {}
    options = store.ImportOptions(
        mode=parse_mode(_text(body, "mode")) if "mode" in body else ImportMode.APPEND,
        notify=parse_notify(_text(body, "notify")) if "notify" in body else True,
        skip_duplicates=parse_notify(_text(body, "skip_duplicates"), name="skip_duplicates")
        if "skip_duplicates" in body else True)
    with use_language(request_language(request)):  # the job's language (lifecycle.NewJob)
        submitted = await store.start_import(
            request.app[keys.POOL], request.app[keys.PROCRASTINATE], user_id=user_id(request),
            preview_id=preview_id, options=options,
            max_active=request.app[keys.SETTINGS].max_active_jobs, idempotency_key=idempotency_key(request))
    job = submitted.job
    return json_response(job.data, status=202 if submitted.created else 200, headers={"Location": job.location})


def _mapping(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise BadRequest.of("mapping.not_object", code="bad_mapping")
    return parse_mapping(json.dumps(value))


def _optional_text(body: dict[str, Any], name: str) -> str | None:
    value = body[name]
    if value is None or isinstance(value, str):
        return value
    raise BadRequest.of("api.not_text_or_null", params={"name": name}, details={"field": name})


def _text(body: dict[str, Any], name: str) -> str:
    """A JSON field as the form's text: booleans as true/false, strings as they are."""
    value = body[name]
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    raise BadRequest.of("api.not_text_or_boolean", params={"name": name}, details={"field": name})
