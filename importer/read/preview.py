"""What an import of a file would do, without doing it (API.md, "Review before import").

The same Source (detection and validation) and the same Planner (rings, groups, labels, pages,
year splits) as the import itself, so that an import started from a preview gives exactly its
counts; only nothing is written. Pure: the caller reads the wheel's existing structure and
counts duplicates against its items (importer/previews/).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date
from uuid import UUID

import attrs

from importer.model import Activity, Existing, JobWarning, Rejection, Source
from importer.read.findings import Findings, source_warnings
from importer.read.planning import DEFAULT_GROUP, DEFAULT_RING, Planner

#: Items and rejected rows a preview shows (its counts cover the whole file).
MAX_SHOWN = 100
# The budget is looked at every this many rows (reading the clock per row costs).
CLOCK_EVERY = 1024


@attrs.frozen(kw_only=True)
class StructureCount:
    """Parents an import would use: `new` ones it creates, `existing` ones of the wheel."""

    new: int
    existing: int


@attrs.frozen(kw_only=True)
class PreviewItem:
    """One planned item as a preview shows it: names as the file spells them (defaults filled
    in), one piece of an activity per calendar year it touches."""

    row: int
    name: str
    start_date: date
    end_date: date
    ring: str
    group: str
    label: str | None
    description: str | None
    page_year: int


@attrs.frozen(kw_only=True)
class DuplicateKey:
    """What makes an item equal to one on the wheel (schema: items_duplicates_delete): only
    items whose ring and group both exist can be duplicates."""

    name: str  # lower-cased and trimmed
    start: date
    end: date
    ring_id: UUID
    group_id: UUID


@attrs.frozen(kw_only=True)
class Review:
    """A file's import, planned: counts over the rows read (the whole file unless `sampled`),
    the first items and rejections, the warnings, and the keys to count duplicates with."""

    rows: int
    activities: int
    items: int
    rejected: int
    split_items: int
    rings: StructureCount
    groups: StructureCount
    labels: StructureCount
    pages: StructureCount
    shown_items: tuple[PreviewItem, ...]
    shown_rejections: tuple[Rejection, ...]
    warnings: tuple[JobWarning, ...]
    sampled: bool
    duplicate_keys: tuple[DuplicateKey, ...]


def review(source: Source, existing: Existing, *, budget_seconds: float | None = None,
           clock: Callable[[], float] = time.monotonic) -> Review:
    """Plan every row of `source` against the wheel's `existing` structure.

    Reading stops after `budget_seconds` (None: never), and the review says `sampled`: its
    counts are those of the rows read. Warnings: the source's own, plus the file's findings
    (importer/read/findings.py), as the import's producer finds them.
    """
    planner = Planner(existing, source.declared)
    existing_rings, existing_groups = set(existing.rings.values()), set(existing.groups.values())
    used: dict[str, set[UUID]] = {"rings": set(), "groups": set(), "labels": set(), "pages": set()}
    shown_items: list[PreviewItem] = []
    shown_rejections: list[Rejection] = []
    keys: list[DuplicateKey] = []
    rows = activities = items = rejected = 0
    findings = Findings()
    started = clock()
    sampled = False
    for row in source:
        rows += 1
        if isinstance(row, Rejection):
            rejected += 1
            if len(shown_rejections) < MAX_SHOWN:
                shown_rejections.append(row)
        else:
            activities += 1
            pieces = planner.place(row)
            items += len(pieces)
            findings.see(row.start, row.end)
            for piece in pieces:
                used["rings"].add(piece.ring_id)
                used["groups"].add(piece.group_id)
                used["pages"].add(piece.page_id)
                if piece.label_id is not None:
                    used["labels"].add(piece.label_id)
                if piece.ring_id in existing_rings and piece.group_id in existing_groups:
                    keys.append(DuplicateKey(name=piece.name.strip().lower(), start=piece.start,
                                             end=piece.end, ring_id=piece.ring_id, group_id=piece.group_id))
                if len(shown_items) < MAX_SHOWN:
                    shown_items.append(_shown(row, piece.start, piece.end))
        if budget_seconds is not None and rows % CLOCK_EVERY == 0 and clock() - started > budget_seconds:
            sampled = True
            break
    new = planner.take_new()
    created = {"rings": {r.id for r in new.rings}, "groups": {g.id for g in new.groups},
               "labels": {lb.id for lb in new.labels}, "pages": {p.id for p in new.pages}}
    counts = {kind: StructureCount(new=len(created[kind]), existing=len(used[kind] - created[kind]))
              for kind in used}
    warnings = [*source_warnings(source), *findings.warnings()]
    return Review(rows=rows, activities=activities, items=items, rejected=rejected,
                  split_items=items - activities, rings=counts["rings"], groups=counts["groups"],
                  labels=counts["labels"], pages=counts["pages"], shown_items=tuple(shown_items),
                  shown_rejections=tuple(shown_rejections), warnings=tuple(warnings), sampled=sampled,
                  duplicate_keys=tuple(keys))


def _shown(activity: Activity, start: date, end: date) -> PreviewItem:
    return PreviewItem(row=activity.row_number, name=activity.name, start_date=start, end_date=end,
                       ring=(activity.ring or "").strip() or DEFAULT_RING,
                       group=(activity.group or "").strip() or DEFAULT_GROUP,
                       label=(activity.label or "").strip() or None, description=activity.description,
                       page_year=start.year)
