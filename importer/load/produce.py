"""The producer: a Source's rows planned and encoded, cut into chunks for the loader (pure).

Runs off the event loop, in a thread or a child process (importer/load/readers.py), so that
parsing chunk k+1 overlaps the COPY of chunk k.
"""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

import attrs

from importer.load.copy_rows import ItemEncoder
from importer.model import Activity, Existing, ItemRow, NewStructure, Rejection, Source
from importer.read.findings import LONG_ITEM_DAYS, Findings
from importer.read.planning import Planner


@attrs.frozen(kw_only=True)
class Chunk:
    """The next slice of the file: parents to insert first, then items as COPY text."""

    new: NewStructure
    copy_data: bytes
    items: int
    activities: int
    rejected: int
    rows: int
    rejections: tuple[Rejection, ...]  # the ones still to store (under the per-job cap)
    findings: Findings  # of the whole file up to this chunk: the last chunk's are the file's


@attrs.frozen(kw_only=True)
class Plan:
    """What the producer needs besides the source: where the rows go and how to cut them."""

    existing: Existing
    wheel_id: UUID
    job_id: UUID | None
    chunk_rows: int = 5000
    max_rejections: int = 10_000


def produce(source: Source, plan: Plan, put: Callable[[Chunk], None]) -> None:
    """Turn every row of `source` into chunks, in file order, handing each to `put`."""
    planner = Planner(plan.existing, source.declared)
    place = planner.place
    encode = ItemEncoder(plan.wheel_id, plan.job_id).encode
    stored = emitted = 0
    items: list[ItemRow] = []
    rejections: list[Rejection] = []
    activities = rejected = rows = 0
    # Findings (importer/read/findings.py), kept inline: a call per row would cost the hot loop.
    seen = long_items = 0
    first_start = first_end = None
    varied = False

    def chunk() -> Chunk:
        first = None if first_start is None or first_end is None else (first_start, first_end)
        return Chunk(new=planner.take_new(), copy_data=encode(items).encode("utf-8"),
                     items=len(items), activities=activities, rejected=rejected, rows=rows,
                     rejections=tuple(rejections),
                     findings=Findings(activities=seen + activities, long_items=long_items,
                                       first=first, varied=varied))

    for row in source:
        rows += 1
        if type(row) is Activity:
            activities += 1
            items.extend(place(row))
            start, end = row.start, row.end
            if start != end and (end - start).days > LONG_ITEM_DAYS:
                long_items += 1
            if first_start is None:
                first_start, first_end = start, end
            elif not varied and (start != first_start or end != first_end):
                varied = True
        else:
            assert isinstance(row, Rejection)
            rejected += 1
            if stored < plan.max_rejections:
                stored += 1
                rejections.append(row)
        if rows >= plan.chunk_rows:
            put(chunk())
            emitted += 1
            seen += activities
            items, rejections = [], []
            activities = rejected = rows = 0
    if rows or not emitted:
        put(chunk())
