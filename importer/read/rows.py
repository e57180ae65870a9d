"""The CSV side of validation: one record's cells handed to the rules of importer.read.validate."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from importer.model import Row
from importer.read.calendar import ALL_DAY_TRUE
from importer.read.columns import ColumnMap
from importer.read.dates import DateColumn, is_midnight
from importer.read.headers import normalise
from importer.read.text import BLANK, is_blank
from importer.read.validate import Blame, Rules


class RowBuilder:
    """Turns records of one file into rows; the column decisions are made before the first.

    It finds each field's cell (the rules are importer.read.validate's): ragged records are
    padded or cut to the header, blank records skipped, and the columns that no field claims
    (`extras`) are added to the description as `header: value`. A rejection blames the header
    of the cell and keeps the record as it was read. In a calendar export, a row whose all-day
    flag is set or whose end time is 00:00 has an exclusive end (Rules.validate).
    """

    def __init__(self, columns: ColumnMap, start: DateColumn, end: DateColumn | None = None, *,
                 check_text: bool = False):
        # `check_text` looks for NUL only: a table's text is decoded (CSV) or read by calamine
        # (workbooks), neither of which gives a lone surrogate.
        self.columns = columns
        self.width = len(columns.headers)
        headers = columns.headers

        def header(index: int | None) -> str | None:
            return None if index is None else headers[index]

        self.rules: Rules[list[str]] = Rules(
            Blame(name=header(columns.name), start=header(columns.start), end=header(columns.end),
                  ring=header(columns.ring), group=header(columns.group),
                  label=header(columns.label)),
            start_dates=start, end_dates=end, ranges=True, cells_of=_as_read, unquote=columns.corrected,
            check_text=check_text, check_surrogates=False)
        self._description = columns.description
        self._extras = tuple((i, headers[i]) for i in columns.extras)
        # Unpacked once per pass by `rows`, not loaded attribute by attribute per record.
        self._plan = (self.width, columns.name, columns.start, columns.end, columns.ring,
                      columns.group, columns.label, columns.description, bool(self._extras),
                      self.rules.validate)
        self._all_day = columns.all_day
        self._end_time = columns.end_time
        # A NUL is blank as counting and the samples see it (text.BLANK): with text that may
        # hold one, a name of only NULs and spaces is tested for a blank record too.
        self._nul_is_possible = check_text

    def rows(self, records: Iterable[tuple[int, list[str]]]) -> Iterator[Row]:
        """A row for each `(row_number, cells)` record, skipping blank records.

        The loop is the CSV hot path: the plan is unpacked once, each record costs one
        Python call (the validation), and only a record without a name is tested for being
        blank.
        """
        (width, name_at, start_at, end_at, ring_at, group_at, label_at, description_at,
         extras, validate) = self._plan
        describe = self._describe
        exclusive_end = self._exclusive_end if (
            self._all_day is not None or self._end_time is not None) else None
        exclusive = False
        padding = [""] * width
        nul = self._nul_is_possible
        for row_number, cells in records:
            if not cells:
                continue
            record = cells
            if len(cells) != width:
                cells = (cells + padding)[:width]
            name = cells[name_at].strip() if name_at is not None else ""
            if (not name or (nul and not name.strip(BLANK))) and is_blank(record):
                continue  # the whole record is tested: a cell past the header counts
            if extras:
                description = describe(cells)
            else:
                description = cells[description_at] if description_at is not None else None
            if exclusive_end is not None:
                exclusive = exclusive_end(cells)
            yield validate(
                row_number, name,
                cells[start_at] if start_at is not None else "",
                cells[end_at] if end_at is not None else "",
                cells[ring_at] if ring_at is not None else None,
                cells[group_at] if group_at is not None else None,
                cells[label_at] if label_at is not None else None,
                description, record, exclusive)

    def _exclusive_end(self, cells: list[str]) -> bool:
        """Whether a calendar row's end date is exclusive: its all-day flag is set (True,
        Sant, Wahr, ...: calendar.ALL_DAY_TRUE) or its end time is 00:00."""
        if self._all_day is not None:
            flag = cells[self._all_day].strip()
            if flag and normalise(flag) in ALL_DAY_TRUE:
                return True
        return self._end_time is not None and is_midnight(cells[self._end_time])

    def _describe(self, cells: list[str]) -> str | None:
        main = cells[self._description].strip() if self._description is not None else ""
        parts = [main] if main else []
        for index, header in self._extras:
            value = cells[index].strip()
            if value:
                parts.append(f"{header}: {value}")
        return " • ".join(parts) if parts else None


def _as_read(record: list[str]) -> list[str]:
    # A rejection keeps the record as it was read: not padded, not cut to the header.
    return record
