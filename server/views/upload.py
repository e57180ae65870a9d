"""Receiving an upload, for both routes that take one (imports and previews): the three body
forms, streamed under the size limit into a spool, and the form fields and headers that come
with them, checked at the edge.

A file (multipart part `file` or a raw body) is what its bytes are, whatever its name or declared
type: CSV text or a workbook (xlsx, xlsm, xls, ods; importer/read/spreadsheet_kinds.py). It is
checked before any job exists: CSV from its first bytes here, a workbook whole in a child process
with memory and time limits (importer/read/spreadsheet_sandbox.py), off the event loop; a large
structured-JSON body in a child too (importer/read/structured_sandbox.py). The body goes to a
spool (importer/spool.py: a temporary file once past 1 MiB) as it arrives, so an upload's size
never shows in the server's memory; the whole body counts against the upload limit. Its limits
were checked before its first byte was read (server/admission.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import attrs
from aiohttp import BodyPartReader, web
from aiohttp.http_exceptions import HttpProcessingError

from importer.errors import BadRequest, UnsupportedMediaType
from importer.jobs import lifecycle
from importer.model import ImportMode
from importer.read import spreadsheet_kinds as kinds
from importer.read.csv_source import sniff as sniff_csv
from importer.read.spreadsheet_sandbox import sniff_workbook
from importer.read.structured import parse_payload
from importer.read.structured_sandbox import check_payload
from importer.spool import IN_MEMORY_BYTES, Spool
from server import keys
from server.views.body_limits import BodyBudget, read_limited, spool_limited, too_large
from server.views.upload_fields import (
    parse_date_order,
    parse_file_name,
    parse_mapping,
    parse_mode,
    parse_notify,
    parse_sheet,
)

# The sniff looks at this much of the file: enough for the header and a sample of rows.
SNIFF_BYTES = 64 * 1024
# Form fields other than the file (mode, mapping, notify, sheet) are small.
FIELD_LIMIT = 64 * 1024
# Multipart framing and the small fields on top of the file itself.
MULTIPART_OVERHEAD = 4 * FIELD_LIMIT


@attrs.frozen(kw_only=True)
class Body:
    """A received file: its bytes in a spool (a temporary file once over spool.IN_MEMORY_BYTES),
    what they are, and the whole of them in memory where they must be read whole anyway (a
    workbook) or are small. Owns the spool: `close` it."""

    spool: Spool
    #: What import_files stores: application/json, or what the bytes are (text/csv or a
    #: workbook's media type, spreadsheet_kinds.media_type_of), never the declared type.
    media_type: str
    whole: bytes | None

    @classmethod
    def of(cls, spool: Spool, *, media_type: str | None = None) -> Body:
        """The body of `spool`; its media type from its bytes unless given (a structured payload)."""
        head = spool.head(len(kinds.CFB_MAGIC))
        if media_type is None and (head.startswith(kinds.ZIP_MAGIC) or head.startswith(kinds.CFB_MAGIC)):
            whole = spool.read_all()  # a workbook is read whole (its directory is at the end)
            return cls(spool=spool, media_type=kinds.media_type_of(whole), whole=whole)
        small = spool.read_all() if spool.size <= IN_MEMORY_BYTES else None
        return cls(spool=spool, media_type=media_type or kinds.CSV, whole=small)

    def stored(self) -> lifecycle.FileContent | lifecycle.SpooledFile:
        """What lifecycle stores: the bytes in memory, or a large body's spool (COPY in chunks)."""
        if self.whole is not None:
            return lifecycle.FileContent(content=self.whole, sha256=self.spool.sha256, media_type=self.media_type)
        return lifecycle.SpooledFile(spool=self.spool, media_type=self.media_type)

    def close(self) -> None:
        self.spool.close()


@attrs.frozen(kw_only=True)
class Upload:
    """A submitted body, read and checked at the edge. Owns its body: `close` it."""

    body: Body
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

    @property
    def media_type(self) -> str:
        return self.body.media_type

    def close(self) -> None:
        self.body.close()


async def _field(part: BodyPartReader, budget: BodyBudget) -> str:
    data = await read_limited(part.read_chunk, FIELD_LIMIT, budget=budget)
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
    spool: Spool | None = None
    file_name = None
    # Every part counts, junk and framing included: a body of 150 MB of other parts and a
    # tiny file is as large as it is.
    budget = BodyBudget(request, limit, MULTIPART_OVERHEAD)
    try:
        while (part := await reader.next()) is not None:
            budget.check()
            if not isinstance(part, BodyPartReader):
                raise BadRequest.of("api.multipart_nested", code="bad_multipart")
            if part.name == "file":
                if spool is not None:
                    raise BadRequest.of("api.multipart_one_file", code="bad_multipart")
                spool = await spool_limited(part.read_chunk, limit, budget=budget)
                file_name = part.filename
            elif part.name in ("mode", "mapping", "notify", "file_name", "sheet", "date_order",
                               "skip_duplicates"):
                fields[part.name] = await _field(part, budget)
            else:
                await read_limited(part.read_chunk, FIELD_LIMIT, budget=budget)  # ignored, but counted
        if spool is None:
            raise BadRequest.of("api.missing_file", code="missing_file")
        return Upload(body=Body.of(spool), file_name=parse_file_name(fields.get("file_name") or file_name),
                      mode=parse_mode(fields.get("mode")), mapping=parse_mapping(fields.get("mapping")),
                      notify=parse_notify(fields.get("notify")), sheet=parse_sheet(fields.get("sheet")),
                      date_order=parse_date_order(fields.get("date_order")),
                      skip_duplicates=parse_notify(fields.get("skip_duplicates"), name="skip_duplicates"))
    except (ValueError, AssertionError, HttpProcessingError):
        if spool is not None:
            spool.close()
        raise BadRequest.of("api.multipart_malformed", code="bad_multipart") from None
    except BaseException:
        if spool is not None:
            spool.close()
        raise


async def read_file(request: web.Request, limit: int) -> Upload:
    """A raw body: CSV text or a workbook, whichever its bytes are (not its Content-Type)."""
    query = request.query
    # Query parameters first: a bad one is a 400 before the body is read.
    mode, notify = parse_mode(query.get("mode")), parse_notify(query.get("notify"))
    mapping, file_name = parse_mapping(query.get("mapping")), parse_file_name(query.get("file_name"))
    sheet, date_order = parse_sheet(query.get("sheet")), parse_date_order(query.get("date_order"))
    skip_duplicates = parse_notify(query.get("skip_duplicates"), name="skip_duplicates")
    body = Body.of(await spool_limited(request.content.read, limit))
    return Upload(body=body, file_name=file_name, mode=mode, mapping=mapping, notify=notify, sheet=sheet,
                  date_order=date_order, skip_duplicates=skip_duplicates)


async def read_structured(request: web.Request, limit: int) -> Upload:
    notify = parse_notify(request.query.get("notify"))
    skip_duplicates = parse_notify(request.query.get("skip_duplicates"), name="skip_duplicates")
    body = Body.of(await spool_limited(request.content.read, limit), media_type="application/json")
    try:
        # Checks the whole structure (400, also for JSON nested too deep) and that it has
        # items (422). A large body in a child process, fed from the spool: parsing it on the
        # loop would stop every request and stream of the process for seconds, and its objects
        # would take several times the body's memory. A small one (spool.IN_MEMORY_BYTES, a few
        # ms to parse) here, without a process's start. The worker reads it again.
        if body.whole is not None:
            mode, file_name, _ = parse_payload(body.whole)
        else:
            mode, file_name = await asyncio.to_thread(check_payload, body.spool.chunks())
        return Upload(body=body, file_name=parse_file_name(file_name), mode=ImportMode(mode), mapping=None,
                      notify=notify, skip_duplicates=skip_duplicates)
    except BaseException:
        body.close()
        raise


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
    body = upload.body
    if body.media_type == kinds.CSV:
        sniff_csv(body.spool.head(SNIFF_BYTES), mapping=upload.mapping, complete=body.spool.size <= SNIFF_BYTES)
    elif body.media_type in kinds.WORKBOOKS:
        assert body.whole is not None  # Body.of reads a workbook whole
        await asyncio.to_thread(sniff_workbook, body.whole, media_type=body.media_type,
                                mapping=upload.mapping, sheet=upload.sheet)


Reader = Callable[[web.Request, int], Awaitable[Upload]]


def body_reader(request: web.Request) -> Reader:
    """The reader of the request's body form, from its headers alone. Raises
    UnsupportedMediaType (415) and PayloadTooLarge (413, a Content-Length over the limit)."""
    limit = request.app[keys.SETTINGS].max_upload_bytes
    reader = READERS.get(request.content_type)
    if reader is None:
        raise UnsupportedMediaType.of("api.unsupported_upload", details={"content_type": request.content_type})
    allowance = MULTIPART_OVERHEAD if reader is read_multipart else 0
    if request.content_length is not None and request.content_length > limit + allowance:
        raise too_large(limit)
    return reader


async def receive(request: web.Request) -> Upload:
    """The upload of an import or a preview, in whichever body form it comes, read under the
    size limit and checked (`sniff`) before anything is stored. Raises UnsupportedMediaType
    (415), PayloadTooLarge (413, from Content-Length before reading or while streaming),
    BadRequest (400) and UnreadableFile (422). The caller owns the Upload: `close` it."""
    upload = await body_reader(request)(request, request.app[keys.SETTINGS].max_upload_bytes)
    try:
        await sniff(upload)
    except BaseException:
        upload.close()
        raise
    return upload


# An Idempotency-Key is an opaque token (a UUID, as a rule): visible ASCII only. Other bytes
# come out of aiohttp's header decoding as lone surrogates, which no column can store.
