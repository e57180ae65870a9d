"""Submitting an import: three body forms, streamed under the size limit, answered before loading.

A file (multipart part `file` or a raw body) is what its bytes are, whatever its name or declared
type: CSV text or a workbook (xlsx, xlsm, xls, ods; importer/read/spreadsheet_kinds.py). It is
checked before any job exists: CSV from its first bytes here, a workbook whole in a child process
with memory and time limits (importer/read/spreadsheet_sandbox.py), off the event loop.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from collections.abc import Awaitable, Callable
from typing import Any

import attrs
from aiohttp import BodyPartReader, web
from aiohttp.http_exceptions import HttpProcessingError

from importer.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType
from importer.jobs import lifecycle
from importer.model import ImportMode
from importer.read import spreadsheet_kinds as kinds
from importer.read.csv_source import sniff as sniff_csv
from importer.read.spreadsheet_sandbox import sniff_workbook
from importer.read.structured import parse_payload
from importer.storable import storable_json, storable_text
from server import keys
from server.auth import user_id
from server.language import request_language
from server.views.common import json_response, path_uuid, unstorable

CHUNK = 64 * 1024
# The sniff looks at this much of the file: enough for the header and a sample of rows.
SNIFF_BYTES = 64 * 1024
# Form fields other than the file (mode, mapping, notify, sheet) are small.
FIELD_LIMIT = 64 * 1024
# Multipart framing and the small fields on top of the file itself.
MULTIPART_OVERHEAD = 4 * FIELD_LIMIT
DEFAULT_FILE_NAME = "import.csv"


@attrs.frozen(kw_only=True)
class Upload:
    """A submitted body, read and checked at the edge."""

    content: bytes | bytearray
    sha256: bytes
    #: What import_files stores: application/json, or what the bytes are (text/csv or a
    #: workbook's media type, spreadsheet_kinds.media_type_of), never the declared type.
    media_type: str
    file_name: str
    mode: ImportMode
    mapping: dict[str, Any] | None
    notify: bool
    #: The workbook sheet to read; None: the first visible worksheet with data.
    sheet: str | None = None
    #: day_first or month_first as the request chose; None: decided from the file.
    date_order: str | None = None
    #: In append mode, leave out items the wheel already has (API.md: default true).
    skip_duplicates: bool = True


def parse_mode(raw: str | None) -> ImportMode:
    if raw is None or raw == "":
        return ImportMode.APPEND
    try:
        return ImportMode(raw)
    except ValueError:
        raise BadRequest.of("api.bad_mode", code="bad_mode", details={"mode": raw[:50]}) from None


def parse_notify(raw: str | None, *, name: str = "notify") -> bool:
    """A yes/no form field or query parameter (`notify`, `skip_duplicates`); unset is true."""
    if raw is None or raw == "":
        return True
    value = raw.strip().lower()
    if value in ("true", "1", "yes", "on"):
        return True
    if value in ("false", "0", "no", "off"):
        return False
    raise BadRequest.of("api.bad_boolean", params={"name": name}, code=f"bad_{name}")


#: The orders `date_order` names (API.md): which part of 03/04 is the day.
DATE_ORDERS = ("day_first", "month_first")


def parse_date_order(raw: str | None) -> str | None:
    """`day_first` or `month_first` when the request chooses; None (unset): decided from the file."""
    if raw is None or raw.strip() == "":
        return None
    if raw not in DATE_ORDERS:
        raise BadRequest.of("api.bad_date_order", code="bad_date_order", details={"date_order": raw[:50]})
    return raw


def parse_mapping(raw: str | None) -> dict[str, Any] | None:
    """The mapping's JSON; which headers it names is checked against the file by the sniff.

    Raises BadRequest(bad_mapping) with the catalogue's `mapping.*` text, the same as the
    reader's check of the headers (importer/read/columns.py), so one code reads alike.
    """

    if raw is None or raw.strip() == "":
        return None
    try:
        mapping = json.loads(raw)
    except (ValueError, RecursionError):
        raise BadRequest.of("mapping.not_json", code="bad_mapping") from None
    if not isinstance(mapping, dict):
        raise BadRequest.of("mapping.not_object", code="bad_mapping")
    if not storable_json(mapping):  # it is stored as jsonb with the job
        raise unstorable("mapping", code="bad_mapping")
    return mapping


def parse_sheet(raw: str | None) -> str | None:
    """A sheet name as a person typed it (Excel allows at most 31 characters; ODS more)."""
    if raw is None or raw.strip() == "":
        return None
    if len(raw) > 255:
        raise BadRequest.of("api.bad_sheet", code="bad_sheet")
    if not storable_text(raw):
        raise unstorable("sheet", code="bad_sheet")
    return raw


def parse_file_name(raw: str | None) -> str:
    name = (raw or "").strip().replace("\\", "/").rsplit("/", 1)[-1]
    if not name:
        return DEFAULT_FILE_NAME
    if len(name) > 255:
        raise BadRequest.of("api.bad_file_name", code="bad_file_name")
    if not storable_text(name):
        raise unstorable("file_name", code="bad_file_name")
    return name


def too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge.of("api.upload_too_large", params={"limit": limit}, details={"limit_bytes": limit})


async def read_limited(read: Callable[[int], Awaitable[bytes]], limit: int, *, digest: Any = None) -> bytearray:
    """Everything `read` gives, stopping with 413 as soon as it exceeds `limit`.

    `limit` is checked per chunk, so at most one chunk past it is ever read. The bytearray is
    handed on as it is (psycopg sends it as bytea): no copy of a 100 MiB upload. `digest` (a
    hashlib object) is fed chunk by chunk as they arrive, so hashing adds no pause at the end.
    """
    buf = bytearray()
    while chunk := await read(CHUNK):
        if len(buf) + len(chunk) > limit:
            raise too_large(limit)
        buf += chunk
        if digest is not None:
            digest.update(chunk)
    return buf


async def _field(part: BodyPartReader) -> str:
    data = await read_limited(part.read_chunk, FIELD_LIMIT)
    try:
        return data.decode(part.get_charset("utf-8"))
    except (UnicodeDecodeError, LookupError):
        raise BadRequest.of("api.field_not_utf8", params={"name": part.name}) from None


async def read_multipart(request: web.Request, limit: int) -> Upload:
    try:
        reader = await request.multipart()
    except (ValueError, AssertionError, KeyError):
        raise BadRequest.of("api.multipart_malformed", code="bad_multipart") from None
    fields: dict[str, str] = {}
    content: bytearray | None = None
    file_name = None
    try:
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader):
                raise BadRequest.of("api.multipart_nested", code="bad_multipart")
            if part.name == "file":
                if content is not None:
                    raise BadRequest.of("api.multipart_one_file", code="bad_multipart")
                digest = hashlib.sha256()
                content = await read_limited(part.read_chunk, limit, digest=digest)
                file_name = part.filename
            elif part.name in ("mode", "mapping", "notify", "file_name", "sheet", "date_order",
                               "skip_duplicates"):
                fields[part.name] = await _field(part)
            else:
                await read_limited(part.read_chunk, FIELD_LIMIT)  # ignored, but bounded
    except (ValueError, AssertionError, HttpProcessingError):
        raise BadRequest.of("api.multipart_malformed", code="bad_multipart") from None
    if content is None:
        raise BadRequest.of("api.missing_file", code="missing_file")
    return Upload(content=content, sha256=digest.digest(), media_type=kinds.media_type_of(content),
                  file_name=parse_file_name(fields.get("file_name") or file_name),
                  mode=parse_mode(fields.get("mode")), mapping=parse_mapping(fields.get("mapping")),
                  notify=parse_notify(fields.get("notify")), sheet=parse_sheet(fields.get("sheet")),
                  date_order=parse_date_order(fields.get("date_order")),
                  skip_duplicates=parse_notify(fields.get("skip_duplicates"), name="skip_duplicates"))


async def read_file(request: web.Request, limit: int) -> Upload:
    """A raw body: CSV text or a workbook, whichever its bytes are (not its Content-Type)."""
    query = request.query
    # Query parameters first: a bad one is a 400 before the body is read.
    mode, notify = parse_mode(query.get("mode")), parse_notify(query.get("notify"))
    mapping, file_name = parse_mapping(query.get("mapping")), parse_file_name(query.get("file_name"))
    sheet, date_order = parse_sheet(query.get("sheet")), parse_date_order(query.get("date_order"))
    skip_duplicates = parse_notify(query.get("skip_duplicates"), name="skip_duplicates")
    digest = hashlib.sha256()
    content = await read_limited(request.content.read, limit, digest=digest)
    return Upload(content=content, sha256=digest.digest(), media_type=kinds.media_type_of(content),
                  file_name=file_name, mode=mode, mapping=mapping, notify=notify, sheet=sheet,
                  date_order=date_order, skip_duplicates=skip_duplicates)


async def read_structured(request: web.Request, limit: int) -> Upload:
    notify = parse_notify(request.query.get("notify"))
    skip_duplicates = parse_notify(request.query.get("skip_duplicates"), name="skip_duplicates")
    digest = hashlib.sha256()
    content = bytes(await read_limited(request.content.read, limit, digest=digest))
    # Checks the whole structure (400) and that it has items (422); the worker reads it again.
    mode, file_name, _ = parse_payload(content)
    return Upload(content=content, sha256=digest.digest(), media_type="application/json",
                  file_name=parse_file_name(file_name), mode=ImportMode(mode), mapping=None, notify=notify,
                  skip_duplicates=skip_duplicates)


#: Body readers by Content-Type (API.md, "Imports"). Every raw-file type goes to read_file,
#: which reads what the bytes are: a `.csv` name on xlsx bytes is read as xlsx.
READERS = {
    "multipart/form-data": read_multipart,
    "application/json": read_structured,
    **dict.fromkeys(("text/csv", "text/tab-separated-values", "text/plain", kinds.XLSX, kinds.XLSM,
                     kinds.XLS, kinds.ODS), read_file),
}


async def sniff(upload: Upload) -> None:
    """422 now, before any job exists, for a file that cannot be an import at all (400 for a
    `sheet` the workbook lacks). A workbook is read whole, in a child process, from a thread."""
    if upload.media_type == kinds.CSV:
        sniff_csv(bytes(upload.content[:SNIFF_BYTES]), mapping=upload.mapping,
                  complete=len(upload.content) <= SNIFF_BYTES)
    elif upload.media_type in kinds.WORKBOOKS:
        await asyncio.to_thread(sniff_workbook, upload.content, media_type=upload.media_type,
                                mapping=upload.mapping, sheet=upload.sheet)


async def receive(request: web.Request) -> Upload:
    """The upload of an import or a preview, in whichever body form it comes, read under the
    size limit and checked (`sniff`) before anything is stored. Raises UnsupportedMediaType
    (415), PayloadTooLarge (413, from Content-Length before reading or while streaming),
    BadRequest (400) and UnreadableFile (422)."""
    limit = request.app[keys.SETTINGS].max_upload_bytes
    reader = READERS.get(request.content_type)
    if reader is None:
        raise UnsupportedMediaType.of("api.unsupported_upload", details={"content_type": request.content_type})
    allowance = MULTIPART_OVERHEAD if reader is read_multipart else 0
    if request.content_length is not None and request.content_length > limit + allowance:
        raise too_large(limit)
    upload = await reader(request, limit)
    await sniff(upload)
    return upload


# An Idempotency-Key is an opaque token (a UUID, as a rule): visible ASCII only. Other bytes
# come out of aiohttp's header decoding as lone surrogates, which no column can store.
_IDEMPOTENCY_KEY = re.compile(r"[\x20-\x7e]{1,255}")


def idempotency_key(request: web.Request) -> str | None:
    """The Idempotency-Key header: 1 to 255 visible ASCII characters; 400
    `bad_idempotency_key` for anything else."""
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    if not _IDEMPOTENCY_KEY.fullmatch(key):
        raise BadRequest.of("api.bad_idempotency_key", code="bad_idempotency_key")
    return key


async def submit(request: web.Request) -> web.Response:
    """POST /api/wheels/{wheel_id}/imports (multipart/form-data, a raw CSV or workbook body, or
    application/json):
    202 with the new job and `Location`; 200 with the first job for a replayed `Idempotency-Key`.
    400 (bad mode, mapping, notify, sheet, body), 404 `not_found` (no such wheel of yours), 413
    `payload_too_large` (while streaming), 415 `unsupported_media_type`, 422 (the file cannot be
    an import: `not_text`, `no_header`, `no_usable_column`, `no_data_rows`, `workbook_encrypted`,
    `workbook_damaged`, `workbook_too_large` ...), 429
    `too_many_active_jobs` with `Retry-After`. Answered before anything is loaded."""
    wheel_id = path_uuid(request, "wheel_id", "wheel")
    settings = request.app[keys.SETTINGS]
    key = idempotency_key(request)
    upload = await receive(request)
    submitted = await lifecycle.submit(
        request.app[keys.POOL], request.app[keys.PROCRASTINATE], user_id=user_id(request),
        job=lifecycle.NewJob(wheel_id=wheel_id, file_name=upload.file_name, mode=upload.mode,
                             mapping=upload.mapping, notify=upload.notify, date_order=upload.date_order,
                             skip_duplicates=upload.skip_duplicates, sheet=upload.sheet,
                             language=request_language(request)),
        file=lifecycle.FileContent(content=upload.content, sha256=upload.sha256,
                                   media_type=upload.media_type),
        max_active=settings.max_active_jobs, idempotency_key=key)
    job = submitted.job
    return json_response(job.data, status=202 if submitted.created else 200,
                         headers={"Location": job.location})
