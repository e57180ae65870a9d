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

    def chunk() -> Chunk:
        return Chunk(new=planner.take_new(), copy_data=encode(items).encode("utf-8"),
                     items=len(items), activities=activities, rejected=rejected, rows=rows,
                     rejections=tuple(rejections))

    for row in source:
        rows += 1
        if type(row) is Activity:
            activities += 1
            items.extend(place(row))
        else:
            assert isinstance(row, Rejection)
            rejected += 1
            if stored < plan.max_rejections:
                stored += 1
                rejections.append(row)
        if rows >= plan.chunk_rows:
            put(chunk())
            emitted += 1
            items, rejections = [], []
            activities = rejected = rows = 0
    if rows or not emitted:
        put(chunk())
