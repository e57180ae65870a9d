"""A large upload stored from its temporary file with COPY, a chunk at a time, under the quota.

An INSERT's bytea parameter is the whole upload in memory, and libpq copies it once more into
its output buffer: 60 MB became 180 MB of the server's RSS. COPY in binary format takes the row
as a stream instead: its small fields, the content's length, then the content in chunks.
"""

from __future__ import annotations

import asyncio
import struct
import uuid
from uuid import UUID

from importer.db import Pool
from importer.errors import StorageQuotaExceeded
from importer.jobs.lifecycle.values import SpooledFile
from importer.queries import q

# COPY's binary format (PostgreSQL, "COPY", File Formats): signature, flags, header extension.
_SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)
_TRAILER = struct.pack(">h", -1)
_FIELDS = 6  # id, user_id, media_type, size_bytes, sha256, content (import_file_copy)
# Stored bytes are freed when retention purges (hourly, importer/jobs/retention.py).
QUOTA_RETRY_AFTER_SECONDS = 3600


def quota_exceeded(stored: int, limit: int) -> StorageQuotaExceeded:
    """The 429 of a user whose stored uploads (`stored` bytes) leave no room under `limit`."""
    return StorageQuotaExceeded.of(
        "api.storage_quota_exceeded", params={"stored": stored, "limit": limit},
        retry_after=QUOTA_RETRY_AFTER_SECONDS, details={"stored_bytes": stored, "limit_bytes": limit})


def _field(value: bytes) -> bytes:
    return struct.pack(">i", len(value)) + value


def row_head(file_id: UUID, user_id: UUID, file: SpooledFile) -> bytes:
    """The signature and the row up to the content's bytes (its length included)."""
    return (_SIGNATURE + struct.pack(">h", _FIELDS) + _field(file_id.bytes) + _field(user_id.bytes)
            + _field(file.media_type.encode()) + _field(struct.pack(">q", file.spool.size))
            + _field(file.spool.sha256) + struct.pack(">i", file.spool.size))


async def store_spooled(pool: Pool, user_id: UUID, file: SpooledFile, max_stored: int | None) -> UUID:
    """Store the upload in `import_files` in one transaction of its own: the user's lock, the
    quota (the stored bytes plus this upload against `max_stored`; None: none), then COPY. Its
    new id. Raises StorageQuotaExceeded before anything is written. The caller forgets the file
    (`forget`) if what it was stored for does not happen."""
    file_id = uuid.uuid4()
    async with pool.connection() as conn, conn.transaction():
        await conn.execute(q("user_lock"), {"user_id": user_id})
        if max_stored is not None:
            row = await (await conn.execute(q("user_stored_bytes"), {"user_id": user_id})).fetchone()
            assert row is not None  # an aggregate
            if row["stored_bytes"] + file.spool.size > max_stored:
                raise quota_exceeded(row["stored_bytes"], max_stored)
        async with conn.cursor() as cursor, cursor.copy(q("import_file_copy")) as copy:
            await copy.write(row_head(file_id, user_id, file))
            chunks = file.spool.chunks()
            # Each chunk read from a thread: a file over the in-memory size is on disk.
            while chunk := await asyncio.to_thread(next, chunks, b""):
                await copy.write(chunk)
            await copy.write(_TRAILER)
    return file_id


async def forget(pool: Pool, file_id: UUID) -> None:
    """Delete a stored upload nothing refers to (as the login role; kept if something does)."""
    async with pool.connection() as conn:
        await conn.execute(q("import_file_forget"), {"file_id": file_id})
