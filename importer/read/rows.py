"""Validation: one mapped record becomes exactly one Activity or Rejection (reasons in Swedish)."""

from __future__ import annotations

from datetime import date

from importer.model import Activity, Rejection, Row
from importer.read.columns import ColumnMap
from importer.read.construct import positional
from importer.read.dates import MAX_YEAR, MIN_YEAR, DateColumn, DateError
from importer.read.text import is_blank

_fromisoformat = date.fromisoformat
_activity = positional(Activity)

MAX_NAME = 200
MAX_PARENT_NAME = 100
MAX_DESCRIPTION = 10_000
MAX_CELL = 10_000  # raw cells kept in a rejection are cut here, so errors.csv stays sane
MAX_SPAN_YEARS = 10
TRUNCATED = " […]"


def cap(text: str, limit: int = MAX_CELL) -> str:
    return text if len(text) <= limit else text[: limit - len(TRUNCATED)] + TRUNCATED


class RowBuilder:
    """Turns records of one file into rows; the column decisions are made before the first.

    Names, rings, groups and labels are trimmed. Over-long names are rejected, not cut: a cut
    name would silently become a different activity. Descriptions are cut at 10,000 characters
    with a visible marker. A missing end date makes a one-day item.
    """

    def __init__(self, columns: ColumnMap, start: DateColumn, end: DateColumn | None = None):
        self.columns = columns
        self.width = len(columns.headers)
        self.start_dates = start
        self.end_dates = end or start
        self._name = columns.name
        self._start = columns.start
        self._end = columns.end
        self._ring = columns.ring
        self._group = columns.group
        self._label = columns.label
        self._description = columns.description
        self._extras = tuple((i, columns.headers[i]) for i in columns.extras)
        # One attribute load and an unpack per row instead of ten attribute loads.
        self._plan = (self.width, self._name, self._start, self._end, self._ring, self._group,
                      self._label, self._description, bool(self._extras))

    def build(self, row_number: int, cells: list[str]) -> Row | None:
        """One row for a record; None for a blank record (only blanks have no name, so the
        blank test stays off the hot path). Ragged records are padded or cut to the header."""
        (width, name_at, start_at, end_at, ring_at, group_at, label_at, description_at,
         extras) = self._plan
        record = cells
        if len(cells) != width:
            cells = (cells + [""] * width)[:width]
        name = cells[name_at].strip() if name_at is not None else ""
        if not name:
            if is_blank(record):  # the whole record: a cell past the header still counts
                return None
            return self._reject(row_number, record, name_at, "Namn saknas")
        if len(name) > MAX_NAME:
            return self._reject(
                row_number, record, name_at, f"Namnet är längre än {MAX_NAME} tecken ({len(name)})")
        if start_at is None:
            return self._reject(row_number, record, None, "Startdatum saknas")
        raw = cells[start_at]
        end = None
        try:
            if len(raw) == 10 and raw[4] == "-" and raw[7] == "-":
                # The hot path: an ISO date, no range, no whitespace.
                start = _fromisoformat(raw)
                if not MIN_YEAR <= start.year <= MAX_YEAR:
                    start = self.start_dates.parse(raw)  # raises with the reason
            else:
                start, end = self.start_dates.parse_range(raw)
        except ValueError as exc:
            reason = "Startdatum saknas" if not raw.strip() else _why("startdatum", raw, exc)
            return self._reject(row_number, record, start_at, reason)
        blame = start_at
        if end_at is not None:
            raw_end = cells[end_at]
            if raw_end:
                try:
                    if len(raw_end) == 10 and raw_end[4] == "-" and raw_end[7] == "-":
                        end = _fromisoformat(raw_end)
                        if not MIN_YEAR <= end.year <= MAX_YEAR:
                            end = self.end_dates.parse(raw_end)
                    elif raw_end.strip():
                        end = self._end_of(raw_end)
                except ValueError as exc:
                    return self._reject(row_number, record, end_at, _why("slutdatum", raw_end, exc))
                blame = end_at
        if end is None:
            end = start
        elif end < start:
            return self._reject(row_number, record, blame, "Slutdatum före startdatum")
        elif end.year - start.year >= MAX_SPAN_YEARS and (
            end.year - start.year > MAX_SPAN_YEARS or (end.month, end.day) > (start.month, start.day)
        ):
            return self._reject(row_number, record, blame,
                                f"Aktiviteten spänner över mer än {MAX_SPAN_YEARS} år")
        ring = group = label = None
        if ring_at is not None:
            ring = cells[ring_at].strip() or None
            if ring is not None and len(ring) > MAX_PARENT_NAME:
                return self._too_long(row_number, record, ring_at, ring)
        if group_at is not None:
            group = cells[group_at].strip() or None
            if group is not None and len(group) > MAX_PARENT_NAME:
                return self._too_long(row_number, record, group_at, group)
        if label_at is not None:
            label = cells[label_at].strip() or None
            if label is not None and len(label) > MAX_PARENT_NAME:
                return self._too_long(row_number, record, label_at, label)
        if extras:
            description = self._describe(cells)
        elif description_at is not None:
            description = cells[description_at].strip() or None
            if description is not None and len(description) > MAX_DESCRIPTION:
                description = cap(description, MAX_DESCRIPTION)
        else:
            description = None
        return _activity(row_number, name, start, end, ring, group, label, description)

    def _too_long(self, row_number: int, cells: list[str], index: int, value: str) -> Rejection:
        header = self.columns.headers[index]
        return self._reject(
            row_number, cells, index,
            f"{header}: namnet är längre än {MAX_PARENT_NAME} tecken ({len(value)})")

    def _end_of(self, raw: str) -> date:
        # An end column holding a range means its last day.
        start, end = self.end_dates.parse_range(raw)
        return end or start

    def _describe(self, cells: list[str]) -> str | None:
        main = cells[self._description].strip() if self._description is not None else ""
        parts = [main] if main else []
        for index, header in self._extras:
            value = cells[index].strip()
            if value:
                parts.append(f"{header}: {value}")
        if not parts:
            return None
        return cap(" • ".join(parts), MAX_DESCRIPTION)

    def _reject(self, row_number: int, cells: list[str], index: int | None, reason: str) -> Rejection:
        return Rejection(
            row_number=row_number,
            column=self.columns.headers[index] if index is not None else None,
            reason=reason,
            values=tuple(cap(c) for c in cells),
        )



def _why(what: str, raw: str, exc: ValueError) -> str:
    reason = f"Ogiltigt {what}: '{cap(raw.strip(), 100)}'"
    detail = str(exc)
    if not isinstance(exc, DateError) or detail.startswith("Ogiltigt datum"):
        return reason
    return f"{reason} ({detail})"
