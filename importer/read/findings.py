"""Warnings only the whole file shows: items far longer than a planning item should be, and every
activity on one and the same date (a misread date column). Fed by the import's producer and by
the preview alike, so that both say the same."""

from __future__ import annotations

from datetime import date

import attrs

from importer.model import JobWarning, Source

#: An item longer than this many days is probably a mistake (a year typed wrong).
LONG_ITEM_DAYS = 300


@attrs.define
class Findings:
    """What the activities of a file showed so far. `see` is the reference; the producer's hot
    loop does the same inline (a call per row would cost it)."""

    activities: int = 0
    long_items: int = 0
    first: tuple[date, date] | None = None
    varied: bool = False

    def see(self, start: date, end: date) -> None:
        self.activities += 1
        if (end - start).days > LONG_ITEM_DAYS:
            self.long_items += 1
        if self.first is None:
            self.first = (start, end)
        elif not self.varied and (start, end) != self.first:
            self.varied = True

    def warnings(self) -> list[JobWarning]:
        """`long_items` with their count, `same_dates` when more than one activity shares one date."""
        found = []
        if self.long_items:
            found.append(JobWarning(code="long_items", details={"count": self.long_items,
                                                                "days": LONG_ITEM_DAYS}))
        if self.activities > 1 and not self.varied and self.first is not None:
            start, end = self.first
            found.append(JobWarning(code="same_dates", details={
                "date": start.isoformat() if start == end else f"{start.isoformat()}–{end.isoformat()}"}))
        return found


def source_warnings(source: Source) -> list[JobWarning]:
    """What reading the file found (its own warnings), and `unmapped_column` for the columns
    holding data that no field takes (they go into the description as "Header: value")."""
    found = list(source.warnings)
    columns = getattr(source, "columns", None)
    extras = getattr(columns, "extras", ())
    headers = getattr(columns, "headers", ())
    if extras:
        found.append(JobWarning(code="unmapped_column", details={"columns": [headers[i] for i in extras]}))
    return found
