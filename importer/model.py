"""The service's vocabulary (job statuses, import modes) and the value types shared by reading
(pure), planning (pure) and loading (the worker)."""

from __future__ import annotations

import enum
from collections.abc import Iterator
from datetime import date
from typing import Any, Protocol
from uuid import UUID

import attrs


class JobStatus(enum.StrEnum):
    """Where an import job stands: the `status` of `import_jobs` (its CHECK constraint
    `import_jobs_status_valid` lists the same values; a test holds them equal)."""

    #: Queued; no attempt runs. Cancelling it ends it at once.
    PENDING = "pending"
    #: An attempt runs (or its worker died and recovery will run it again).
    PROCESSING = "processing"
    #: A cancel was asked while an attempt ran; the worker rolls back and ends it `cancelled`.
    CANCELLING = "cancelling"
    #: Every valid row is in the wheel; rejected rows are in errors.csv.
    COMPLETED = "completed"
    #: Nothing was written; `error.code` says why. It can be retried.
    FAILED = "failed"
    #: Nothing was written. It can be retried.
    CANCELLED = "cancelled"


#: Statuses in which a job still counts against the per-user limit and can be cancelled.
ACTIVE = frozenset({JobStatus.PENDING, JobStatus.PROCESSING, JobStatus.CANCELLING})
#: Statuses a job never leaves; each is the last event of its stream.
TERMINAL = frozenset({JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED})
#: Statuses whose job may be retried (as a new job with `retry_of`).
RETRYABLE = frozenset({JobStatus.FAILED, JobStatus.CANCELLED})


class ImportMode(enum.StrEnum):
    """How an import treats the wheel's data (`import_jobs_mode_valid` lists the same values)."""

    #: Adds to what the wheel has; rings, groups and labels are matched by name.
    APPEND = "append"
    #: Deletes the wheel's data and imports the file, in one transaction.
    REPLACE = "replace"


@attrs.frozen(kw_only=True)
class Activity:
    """One accepted row of a file, before it is split at year boundaries.

    `ring`, `group` and `label` are names as the file spells them (None: the file says nothing).
    """

    row_number: int
    name: str
    start: date
    end: date
    ring: str | None = None
    group: str | None = None
    label: str | None = None
    description: str | None = None


@attrs.frozen(kw_only=True)
class Rejection:
    """A row that cannot become an item, reported in errors.csv, never dropped silently.

    `row_number` is the line a spreadsheet shows (the header is row 1); `column` the header of
    the offending cell when one cell is to blame; `values` the raw cells of the row.
    """

    row_number: int
    column: str | None
    reason: str
    values: tuple[str, ...] = ()


Row = Activity | Rejection


@attrs.frozen(kw_only=True)
class DeclaredRing:
    name: str
    type: str = "inner"
    color: str | None = None


@attrs.frozen(kw_only=True)
class DeclaredColored:
    """A group or label the source declares with its colour (the structured JSON form does)."""

    name: str
    color: str | None = None


@attrs.frozen(kw_only=True)
class Declared:
    """Structure a source declares up front; a CSV declares nothing, the JSON form declares all."""

    rings: tuple[DeclaredRing, ...] = ()
    groups: tuple[DeclaredColored, ...] = ()
    labels: tuple[DeclaredColored, ...] = ()


#: The stable warning codes (API.md, "Review before import"), in the contract's order.
WARNINGS = ("date_order_assumed", "unmapped_column", "duplicate_items", "long_items", "same_dates",
            "encoding_repaired", "other_sheets")


@attrs.frozen(kw_only=True)
class JobWarning:
    """Something about a file a person should know before (preview) and after (job) importing
    it, though nothing is rejected for it: `code` is stable (API.md, "Review before import":
    date_order_assumed, unmapped_column, duplicate_items, long_items, same_dates,
    encoding_repaired, other_sheets); the message for a person is the catalogue's
    `warning.<code>` (importer/messages.py) rendered with `details`, which also go out as JSON.
    """

    code: str = attrs.field(validator=attrs.validators.in_(WARNINGS))
    details: dict[str, Any] = attrs.field(factory=dict)


class Source(Protocol):
    """What the loader reads: a file turned into rows, streamed.

    `total_rows` is known before iterating (a cheap first pass), for progress and ETA.
    Iterating yields every data row exactly once, as an Activity or a Rejection, in file order.
    `warnings` are what reading the file found worth saying (known once it is opened).
    """

    file_name: str
    total_rows: int
    declared: Declared
    warnings: tuple[JobWarning, ...]

    def __iter__(self) -> Iterator[Row]: ...


@attrs.frozen(kw_only=True)
class Existing:
    """What the wheel already has, by lower-cased name (pages by year), read before planning.

    In `replace` mode the loader passes an empty Existing: everything is deleted and new.
    """

    rings: dict[str, UUID] = attrs.field(factory=dict)
    groups: dict[str, UUID] = attrs.field(factory=dict)
    labels: dict[str, UUID] = attrs.field(factory=dict)
    pages: dict[int, UUID] = attrs.field(factory=dict)
    max_ring_order: int = -1
    max_page_order: int = 0


@attrs.frozen(kw_only=True)
class NewRing:
    id: UUID
    name: str
    type: str
    color: str | None
    ring_order: int


@attrs.frozen(kw_only=True)
class NewColored:
    """A new activity group or label."""

    id: UUID
    name: str
    color: str


@attrs.frozen(kw_only=True)
class NewPage:
    id: UUID
    year: int
    title: str
    page_order: int


@attrs.frozen(kw_only=True)
class NewStructure:
    """Parents created since the planner was last asked; the loader inserts them before items."""

    rings: tuple[NewRing, ...] = ()
    groups: tuple[NewColored, ...] = ()
    labels: tuple[NewColored, ...] = ()
    pages: tuple[NewPage, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.rings or self.groups or self.labels or self.pages)


@attrs.frozen(kw_only=True)
class ItemRow:
    """One item as it is written to the items table (one piece per calendar year)."""

    row_number: int
    page_id: UUID
    ring_id: UUID
    group_id: UUID
    label_id: UUID | None
    name: str
    start: date
    end: date
    description: str | None
    cross_year_group_id: UUID | None
