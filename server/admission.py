"""An upload's admission: its limits checked before its body is read (API.md, "Errors").

A refused upload costs the server nothing: the wheel (404), the active jobs (429
`too_many_active_jobs`), the storage quota (429 `storage_quota_exceeded`) and the uploads the
user is already sending to this process (429 `too_many_uploads`) are all decided from the
headers and one query (skipped for a body small enough to cost less than it: `admitted`). The
database checks here are an early, cheap refusal only; the same limits hold race-free where the
job or the file is inserted (importer/jobs/lifecycle/requests.py, spooled.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from uuid import UUID

from aiohttp import web

from importer.db import as_user
from importer.errors import NotFound, TooManyActiveJobs, TooManyUploads
from importer.jobs.lifecycle.requests import RETRY_AFTER_SECONDS
from importer.jobs.lifecycle.spooled import quota_exceeded
from importer.queries import q
from importer.spool import IN_MEMORY_BYTES
from server import keys
from server.auth import user_id

# An upload in flight ends within seconds (or its read timeout): worth trying again soon.
UPLOADS_RETRY_AFTER_SECONDS = 2
# Bodies up to this size are kept in memory as they arrive (importer.spool) and cost less to
# read than the early query: their limits are checked where the job or file is inserted.
SMALL_BODY_BYTES = IN_MEMORY_BYTES


class UploadSlots:
    """How many upload bodies each user is sending to this process; at most `limit` each."""

    def __init__(self, limit: int):
        self.limit = limit
        self._in_flight: dict[UUID, int] = {}

    def in_flight(self, user: UUID) -> int:
        return self._in_flight.get(user, 0)

    @asynccontextmanager
    async def hold(self, user: UUID) -> AsyncIterator[None]:
        """One slot of `user`'s for the block. Raises TooManyUploads when all are taken."""
        held = self._in_flight.get(user, 0)
        if held >= self.limit:
            raise TooManyUploads.of("api.too_many_uploads", params={"limit": self.limit},
                                    retry_after=UPLOADS_RETRY_AFTER_SECONDS,
                                    details={"in_flight": held, "limit": self.limit})
        self._in_flight[user] = held + 1
        try:
            yield
        finally:
            left = self._in_flight[user] - 1
            if left:
                self._in_flight[user] = left
            else:
                del self._in_flight[user]  # the map holds only users sending now


UPLOAD_SLOTS = web.AppKey("upload_slots", UploadSlots)


def setup(app: web.Application) -> None:
    app[UPLOAD_SLOTS] = UploadSlots(app[keys.SETTINGS].max_uploads_per_user)


async def check_limits(request: web.Request, wheel_id: UUID, *, starts_job: bool,
                       idempotency_key: str | None = None) -> None:
    """The user's wheel, active jobs (when the upload `starts_job`) and stored bytes, in one
    query, before the body is read. Raises NotFound, TooManyActiveJobs, StorageQuotaExceeded.
    A replayed `idempotency_key` passes the limits: it answers with its first job."""
    settings = request.app[keys.SETTINGS]
    user = user_id(request)
    async with as_user(request.app[keys.POOL], user) as conn:
        row = await (await conn.execute(q("upload_admission_check"), {
            "user_id": user, "wheel_id": wheel_id, "idempotency_key": idempotency_key})).fetchone()
    assert row is not None  # a SELECT of scalars
    if not row["wheel_found"]:
        raise NotFound.of("api.no_wheel")
    if row["replay"]:
        return
    if starts_job and row["active"] >= settings.max_active_jobs:
        raise TooManyActiveJobs.of(
            "api.too_many_active_jobs", params={"active": row["active"], "limit": settings.max_active_jobs},
            retry_after=RETRY_AFTER_SECONDS,
            details={"active": row["active"], "limit": settings.max_active_jobs})
    if row["stored_bytes"] >= settings.max_stored_bytes_per_user:
        raise quota_exceeded(row["stored_bytes"], settings.max_stored_bytes_per_user)


@asynccontextmanager
async def admitted(request: web.Request, wheel_id: UUID, *, starts_job: bool,
                   idempotency_key: str | None = None) -> AsyncIterator[None]:
    """The block that reads and stores an upload, entered only once the upload is admitted:
    a slot of the user's (TooManyUploads, checked first: it needs no query; for an import,
    TooManyActiveJobs when as many imports as IMPORTER_MAX_ACTIVE_JOBS are already arriving) and
    the limits of `check_limits`. Authentication has run already (server/auth.py, a middleware).

    A body that announces at most SMALL_BODY_BYTES skips the query: reading it costs less than
    the query would (a third more CPU per submit of a small CSV), and the insert checks the same
    limits anyway. A chunked body announces nothing, so it is checked."""
    slots = request.app[UPLOAD_SLOTS]
    user = user_id(request)
    limit = request.app[keys.SETTINGS].max_active_jobs
    if starts_job and idempotency_key is None and slots.in_flight(user) >= limit:
        # Each import in flight becomes an active job when its body has arrived: with as many
        # arriving as the user may have active, this one is refused with the contract's own code
        # (API.md: 429 `too_many_active_jobs`), not the generic cap on bodies in flight. A keyed
        # request may be the replay of a job that exists (200, not a new job): the query decides.
        raise TooManyActiveJobs.of(
            "api.too_many_active_jobs", params={"active": slots.in_flight(user), "limit": limit},
            retry_after=RETRY_AFTER_SECONDS, details={"active": slots.in_flight(user), "limit": limit})
    async with slots.hold(user):
        length = request.content_length
        if length is None or length > SMALL_BODY_BYTES:
            await check_limits(request, wheel_id, starts_job=starts_job, idempotency_key=idempotency_key)
        yield
