"""What the job's transitions take and give: the job object, a claim, reports and totals."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

import attrs
import psycopg

from importer.messages import DEFAULT_LANGUAGE, current_language
from importer.model import ImportMode, JobStatus, JobWarning
from importer.spool import Spool

#: The Procrastinate task that runs an import, and its queue (importer/jobs/import_task.py).
IMPORT_TASK = "run_import"
IMPORT_QUEUE = "imports"


@attrs.frozen
class JobObject:
    """The job object of API.md, as `import_job_json_v2` (schema/0010) builds it: a JSON object
    with `id`, `status`, counts, `error`, `links` … The API answers with `data` as it is."""

    data: dict[str, Any]

    @property
    def id(self) -> UUID:
        return UUID(str(self.data["id"]))

    @property
    def status(self) -> JobStatus:
        return JobStatus(self.data["status"])

    @property
    def location(self) -> str:
        """The job's own URL path (`links.self`), for a `Location` header."""
        return str(self.data["links"]["self"])


@attrs.frozen(kw_only=True)
class NewJob:
    """What a submitted job is made of; a retry copies it from the job it retries."""

    wheel_id: UUID
    file_name: str
    mode: ImportMode
    mapping: dict[str, Any] | None
    notify: bool
    #: "day_first" or "month_first" when the request chose; None: decided from the file.
    date_order: str | None = None
    #: In append mode, leave out items the wheel already has (API.md's `skip_duplicates`).
    skip_duplicates: bool = True
    #: The workbook sheet to read; None: the first visible worksheet with data.
    sheet: str | None = None
    #: The language of the request that starts the job (its texts are in it, API.md
    #: "Language"): by default the language the code making the NewJob runs in
    #: (importer.messages.use_language, which the API's views set), else Swedish.
    language: str = attrs.field(factory=current_language)


@attrs.frozen(kw_only=True)
class FileContent:
    """An upload's bytes as `import_files` stores them; `media_type` says how to read them."""

    content: bytes | bytearray
    sha256: bytes
    media_type: str


@attrs.frozen(kw_only=True)
class SpooledFile:
    """An upload too large to hold in memory, in its temporary file (importer.spool): stored
    with COPY a chunk at a time (lifecycle.spooled), never whole in the server's memory."""

    spool: Spool
    media_type: str


@attrs.frozen(kw_only=True)
class Submitted:
    """A submit's outcome: the job, and whether this request created it (False: the
    Idempotency-Key named a job this user had submitted already)."""

    job: JobObject
    created: bool


@attrs.frozen(kw_only=True)
class Claim:
    """The job as an attempt starts it (`claim`): what the attempt reads and where it writes."""

    job_id: UUID
    wheel_id: UUID
    file_id: UUID
    file_name: str
    mode: ImportMode
    mapping: dict[str, Any] | None
    date_order: str | None
    skip_duplicates: bool
    sheet: str | None
    attempt: int
    wheel_year: int
    #: The job's language (import_jobs.language): its current_step, warnings and error are in it.
    language: str = DEFAULT_LANGUAGE

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Claim:
        return cls(job_id=row["id"], wheel_id=row["wheel_id"], file_id=row["file_id"],
                   file_name=row["file_name"], mode=ImportMode(row["mode"]), mapping=row["mapping"],
                   date_order=row["date_order"], skip_duplicates=row["skip_duplicates"], sheet=row["sheet"],
                   attempt=row["attempts"], wheel_year=row["wheel_year"],
                   language=row.get("language") or DEFAULT_LANGUAGE)


@attrs.frozen(kw_only=True)
class FileNotes:
    """What reading the file found worth showing on the job, written once, with the attempt's
    first progress report: its warnings and its own headers (for errors.csv)."""

    warnings: Sequence[JobWarning]
    headers: Sequence[str]


@attrs.frozen(kw_only=True)
class ProgressReport:
    """One progress write of an attempt: step, its text (cut at 200 characters), percent 0-100,
    rows, ETA in seconds (None: unknown) and what the data transaction created so far; `file`:
    the file's notes, when this report is the first once the file is open."""

    step: str
    text: str
    percent: int
    processed: int
    total: int
    rejected: int
    eta_seconds: int | None
    counts: dict[str, int]
    file: FileNotes | None = None


@attrs.frozen(kw_only=True)
class Totals:
    """What a completed attempt did: rows read and rejected, and what it created."""

    processed: int
    total: int
    rejected: int
    rings: int
    groups: int
    labels: int
    pages: int
    items: int
    #: Items the wheel had already: left out (skip_duplicates) or kept and only counted.
    duplicates: int = 0
    skipped_duplicates: int = 0


class AlreadySubmitted(Exception):
    """The Idempotency-Key names a job of this user's. Raised inside the submit transaction so
    that it rolls back, task included, and `submit` answers with that job."""

    def __init__(self, job: dict[str, Any]):
        super().__init__(job["id"])
        self.job = job


async def one_row(cursor: psycopg.AsyncCursor[dict[str, Any]]) -> dict[str, Any]:
    """The row a statement always returns (an INSERT/UPDATE … RETURNING that matched, a count)."""
    row = await cursor.fetchone()
    if row is None:
        raise RuntimeError("a statement that returns one row returned none")
    return row
