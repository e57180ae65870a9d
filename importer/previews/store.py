"""The previews of the API: create, read, change and import one (API.md, "Review before import").

Each step that reads or writes `import_previews` runs as the request's user (importer.db.as_user),
so another user's preview is a 404; the planning itself runs in a child (runner.py) between two
short transactions, never inside one.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any
from uuid import UUID

import attrs
import procrastinate
from psycopg.types.json import Jsonb

from importer.db import Pool, as_user
from importer.errors import NotFound
from importer.jobs import lifecycle
from importer.jobs.lifecycle import FileContent, NewJob, SpooledFile, Submitted
from importer.load.attempt import conninfo_of
from importer.model import Existing, ImportMode
from importer.previews.plan import Request
from importer.previews.runner import PreviewRunner
from importer.queries import q


@attrs.frozen(kw_only=True)
class Choices:
    """What the person chose about reading the file (each None: decided from the file)."""

    mapping: dict[str, Any] | None = None
    date_order: str | None = None
    sheet: str | None = None


@attrs.frozen(kw_only=True)
class ImportOptions:
    """How the previewed file is imported (API.md: `POST /api/previews/{id}/imports`)."""

    mode: ImportMode = ImportMode.APPEND
    notify: bool = True
    skip_duplicates: bool = True


def preview_object(row: dict[str, Any]) -> dict[str, Any]:
    """The preview object of API.md from a stored row: the computed result plus who it is."""
    expires: datetime = row["expires_at"]
    return {"id": str(row["id"]), "wheel_id": str(row["wheel_id"]), **row["result"],
            "expires_at": expires.isoformat(),
            "links": {"self": f"/api/previews/{row['id']}", "imports": f"/api/previews/{row['id']}/imports"}}


async def create(pool: Pool, runner: PreviewRunner, *, user_id: UUID, wheel_id: UUID,
                 file: FileContent | SpooledFile, file_name: str, choices: Choices,
                 max_stored: int) -> dict[str, Any]:
    """Store the upload, plan it against the wheel, keep the preview: its object.

    Raises NotFound (no such wheel of the user's), StorageQuotaExceeded (the upload would bring
    the user's stored bytes over `max_stored`: nothing is stored), and the file's BadRequest or
    UnreadableFile (the upload is then not kept).
    """
    if isinstance(file, SpooledFile):
        # Stored first, in a transaction of its own (COPY, a chunk at a time), under the quota.
        file_id = await lifecycle.store_spooled(pool, user_id, file, max_stored)
        size_bytes = file.spool.size
        try:
            async with as_user(pool, user_id) as conn:
                existing, year = await _wheel(conn, wheel_id)
        except BaseException:
            await lifecycle.forget(pool, file_id)
            raise
    else:
        size_bytes = len(file.content)
        async with as_user(pool, user_id) as conn:
            existing, year = await _wheel(conn, wheel_id)
            file_id = await lifecycle.store_file_within_quota(conn, user_id, file, max_stored)
    try:
        result = await runner.run(Request(
            conninfo=conninfo_of(pool), file_id=file_id, size_bytes=size_bytes,
            media_type=file.media_type, file_name=file_name, wheel_id=wheel_id, wheel_year=year,
            existing=existing, mapping=choices.mapping, date_order=choices.date_order, sheet=choices.sheet))
    except BaseException:
        # Nothing refers to the upload yet: it goes now rather than with retention in a week.
        async with pool.connection() as conn:
            await conn.execute(q("import_file_forget"), {"file_id": file_id})
        raise
    async with as_user(pool, user_id) as conn:
        row = await (await conn.execute(q("preview_insert"), {
            "id": uuid.uuid4(), "user_id": user_id, "wheel_id": wheel_id, "file_id": file_id,
            "file_name": file_name, "mapping": _json(choices.mapping), "date_order": choices.date_order,
            "sheet": choices.sheet, "result": Jsonb(result)})).fetchone()
    assert row is not None  # INSERT … RETURNING
    return preview_object(row)


async def get(pool: Pool, *, user_id: UUID, preview_id: UUID) -> dict[str, Any]:
    """One preview of the user's that has not expired. Raises NotFound."""
    return preview_object(await _get(pool, user_id, preview_id))


async def change(pool: Pool, runner: PreviewRunner, *, user_id: UUID, preview_id: UUID,
                 changes: dict[str, Any]) -> dict[str, Any]:
    """Plan the stored file again with the choices in `changes` (mapping, date_order, sheet; one
    left out keeps its value, None clears it); a day more to live. Raises NotFound, and
    BadRequest/UnreadableFile when the new choices cannot read the file (the preview keeps its
    old ones then)."""
    async with as_user(pool, user_id) as conn:
        row = await _row(conn, preview_id)
        existing, year = await _wheel(conn, row["wheel_id"])
    choices = attrs.evolve(Choices(mapping=row["mapping"], date_order=row["date_order"], sheet=row["sheet"]),
                           **changes)
    result = await runner.run(Request(
        conninfo=conninfo_of(pool), file_id=row["file_id"], size_bytes=row["size_bytes"],
        media_type=row["media_type"], file_name=row["file_name"], wheel_id=row["wheel_id"],
        wheel_year=year, existing=existing, mapping=choices.mapping, date_order=choices.date_order,
        sheet=choices.sheet))
    async with as_user(pool, user_id) as conn:
        updated = await (await conn.execute(q("preview_update"), {
            "preview_id": preview_id, "mapping": _json(choices.mapping), "date_order": choices.date_order,
            "sheet": choices.sheet, "result": Jsonb(result)})).fetchone()
    if updated is None:
        raise NotFound.of("api.no_preview")
    return preview_object(updated)


async def start_import(pool: Pool, queue: procrastinate.App, *, user_id: UUID, preview_id: UUID,
                       options: ImportOptions, max_active: int, idempotency_key: str | None) -> Submitted:
    """Import the previewed file with the preview's choices, as an upload of it would be
    (limits, 429 and Idempotency-Key included). Raises NotFound and what lifecycle.submit raises."""
    row = await _get(pool, user_id, preview_id)
    return await lifecycle.submit(
        pool, queue, user_id=user_id, job=NewJob(
            wheel_id=row["wheel_id"], file_name=row["file_name"], mode=options.mode, mapping=row["mapping"],
            notify=options.notify, date_order=row["date_order"], skip_duplicates=options.skip_duplicates,
            sheet=row["sheet"]),
        file=row["file_id"], max_active=max_active, idempotency_key=idempotency_key)


async def _get(pool: Pool, user_id: UUID, preview_id: UUID) -> dict[str, Any]:
    async with as_user(pool, user_id) as conn:
        return await _row(conn, preview_id)


async def _row(conn: Any, preview_id: UUID) -> dict[str, Any]:
    """The stored preview as the user sees it (row security hides the others'). Raises NotFound."""
    row: dict[str, Any] | None = await (await conn.execute(q("preview_get"), {"preview_id": preview_id})).fetchone()
    if row is None:
        raise NotFound.of("api.no_preview")
    return row


async def _wheel(conn: Any, wheel_id: UUID) -> tuple[Existing, int]:
    """What an append into the wheel would reuse, and its year. Raises NotFound."""
    row = await (await conn.execute(q("wheel_structure_existing"), {"wheel_id": wheel_id})).fetchone()
    if row is None:
        raise NotFound.of("api.no_wheel")
    return Existing(
        rings={k: UUID(v) for k, v in row["rings"].items()},
        groups={k: UUID(v) for k, v in row["groups"].items()},
        labels={k: UUID(v) for k, v in row["labels"].items()},
        pages={int(k): UUID(v) for k, v in row["pages"].items()},
        max_ring_order=row["max_ring_order"], max_page_order=row["max_page_order"]), row["year"]


def _json(value: dict[str, Any] | None) -> Jsonb | None:
    return None if value is None else Jsonb(value)
