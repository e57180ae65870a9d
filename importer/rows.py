"""Validation: one mapped record becomes exactly one Activity or Rejection (reasons in Swedish)."""

from __future__ import annotations

from datetime import date

from importer.columns import ColumnMap
from importer.dates import DateColumn, DateError
from importer.model import Activity, Rejection, Row

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
        self._parents = tuple(
            (field, index, columns.headers[index])
            for field in ("ring", "group", "label")
            if (index := getattr(columns, field)) is not None
        )
        self._description = columns.description
        self._extras = tuple((i, columns.headers[i]) for i in columns.extras)

    def build(self, row_number: int, cells: list[str]) -> Row:
        """`cells` is a non-blank record; ragged records are padded or cut to the header."""
        if len(cells) != self.width:
            cells = (cells + [""] * self.width)[: self.width]
        headers = self.columns.headers
        name_at = self._name
        name = cells[name_at].strip() if name_at is not None else ""
        if not name:
            return self._reject(row_number, cells, name_at, "Namn saknas")
        if len(name) > MAX_NAME:
            return self._reject(
                row_number, cells, name_at, f"Namnet är längre än {MAX_NAME} tecken ({len(name)})")
        start_at = self._start
        if start_at is None:
            return self._reject(row_number, cells, None, "Startdatum saknas")
        raw = cells[start_at]
        try:
            start, end = self.start_dates.parse_range(raw)
        except DateError as exc:
            reason = "Startdatum saknas" if not raw.strip() else _why("startdatum", raw, exc)
            return self._reject(row_number, cells, start_at, reason)
        blame = start_at
        end_at = self._end
        if end_at is not None and cells[end_at].strip():
            raw_end = cells[end_at]
            try:
                end = self._end_of(raw_end)
            except DateError as exc:
                return self._reject(row_number, cells, end_at, _why("slutdatum", raw_end, exc))
            blame = end_at
        if end is None:
            end = start
        elif end < start:
            return self._reject(row_number, cells, blame, "Slutdatum före startdatum")
        if end.year - start.year > MAX_SPAN_YEARS or (
            end.year - start.year == MAX_SPAN_YEARS and (end.month, end.day) > (start.month, start.day)
        ):
            return self._reject(row_number, cells, blame,
                                f"Aktiviteten spänner över mer än {MAX_SPAN_YEARS} år")
        parents: dict[str, str | None] = {"ring": None, "group": None, "label": None}
        for field, index, header in self._parents:
            value = cells[index].strip()
            if len(value) > MAX_PARENT_NAME:
                return self._reject(
                    row_number, cells, index,
                    f"{header}: namnet är längre än {MAX_PARENT_NAME} tecken ({len(value)})")
            parents[field] = value or None
        description = self._describe(cells, headers)
        return Activity(
            row_number=row_number, name=name, start=start, end=end,
            ring=parents["ring"], group=parents["group"], label=parents["label"],
            description=description,
        )

    def _end_of(self, raw: str) -> date:
        # An end column holding a range means its last day.
        start, end = self.end_dates.parse_range(raw)
        return end or start

    def _describe(self, cells: list[str], headers: tuple[str, ...]) -> str | None:
        main = cells[self._description].strip() if self._description is not None else ""
        if not self._extras:
            return cap(main, MAX_DESCRIPTION) if main else None
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



def _why(what: str, raw: str, exc: DateError) -> str:
    reason = f"Ogiltigt {what}: '{cap(raw.strip(), 100)}'"
    detail = str(exc)
    return reason if detail.startswith("Ogiltigt datum") else f"{reason} ({detail})"
