"""A table's layout from its first records: where the header is (title lines above it are
skipped), which column is what, and how each date column's D/M/Y values read in its sample.
Shared by the CSV reader and the workbook reader (spreadsheet.py)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import attrs

from importer.errors import UnreadableFile
from importer.messages import SWEDISH, Term, render_in
from importer.read import columns as cols
from importer.read import dates
from importer.read import text as reading
from importer.read.columns import ColumnMap
from importer.read.dates import DateColumn
from importer.read.headers import normalise, unique_headers
from importer.read.rows import RowBuilder
from importer.read.validate import cap

HEADER_SEARCH = 10  # records looked at for the header row
MAX_HEADER_SHOWN = 60  # a header quoted in an error message is cut here (validate.cap)


@attrs.frozen(kw_only=True)
class Layout:
    """What the first lines say: how to split records, where the header is, which column is what.

    `header_row` is the 1-based record number of the header (leading blank lines count, as in
    a spreadsheet). `day_first` is None for a date column whose sample is all ambiguous.
    """

    delimiter: str
    header_row: int
    columns: ColumnMap
    sample_rows: int
    day_first_start: bool | None
    day_first_end: bool | None


def undecided_columns(layout: Layout) -> list[int]:
    """The date columns whose order the sample left open (`settle` reads them whole)."""
    return [index for index, decided in ((layout.columns.start, layout.day_first_start),
                                         (layout.columns.end, layout.day_first_end))
            if index is not None and decided is None]


def row_builder(layout: Layout, day_first_start: bool, day_first_end: bool,
                default_year: int | None, *, check_text: bool = False) -> RowBuilder:
    """The RowBuilder of a table whose date orders are settled (`settle`); `check_text` as
    validate.Rules has it."""
    serials = layout.columns.serial_dates
    start = DateColumn(day_first=day_first_start, serials=serials, default_year=default_year)
    end = DateColumn(day_first=day_first_end, serials=serials, default_year=default_year)
    return RowBuilder(layout.columns, start, end, check_text=check_text)


def layout_of(records: Iterable[tuple[int, list[str]]], *, mapping: dict[str, Any] | None,
              date_order: bool = True, delimiter: str = "") -> Layout:
    """The layout of a table from its first `(row_number, cells)` records: the one way from
    records of cells to a header row, columns and date orders, for every reader (CSV here, the
    spreadsheets in importer/read/spreadsheet.py, whose date cells arrive as ISO text).

    Blank records and title lines above the header are skipped; it reads only as many records
    as it needs. Raises UnreadableFile (empty_file, no_header, no_usable_column) or BadRequest
    (bad_mapping). `delimiter` is only recorded (a spreadsheet has none: "").
    """
    found: list[tuple[int, list[str]]] = []
    for number, cells in records:
        if not reading.is_blank(cells):
            found.append((number, cells))
            if len(found) > HEADER_SEARCH + cols.SAMPLE_ROWS:
                break
    if not found:
        raise empty()
    at = _header_at(found, mapping)
    header_row, headers = found[at]
    sample = [cells for _, cells in found[at + 1: at + 1 + cols.SAMPLE_ROWS]]
    names = [reading.clean(h).replace("\x00", "").strip() for h in headers]
    if _looks_like_data(names):
        raise UnreadableFile.of(
            "file.no_header",
            code="no_header", details={"first_row": [_shown(h) for h in names[:20]]},
        )
    names = [h or render_in(SWEDISH, "file.unnamed_column", number=i + 1) for i, h in enumerate(names)]
    names = unique_headers(names)
    column_map = cols.detect(names, sample, mapping)
    if column_map.name is None or column_map.start is None:
        missing = "namn" if column_map.name is None else "datum"  # a code in details
        raise UnreadableFile.of(
            "file.no_usable_column",
            params={"missing": Term("file.missing_name" if column_map.name is None else "file.missing_date"),
                    "headers": ", ".join(_shown(n) for n in names[:30])},
            code="no_usable_column", details={"headers": names[:100], "missing": missing},
        )
    day_first = [None if index is None or not date_order else _day_first(sample, index)
                 for index in (column_map.start, column_map.end)]
    return Layout(delimiter=delimiter, header_row=header_row, columns=column_map,
                  sample_rows=len(sample), day_first_start=day_first[0],
                  day_first_end=day_first[1])


def _header_at(found: list[tuple[int, list[str]]], mapping: dict[str, Any] | None) -> int:
    """Which of the first records is the header: the first naming two known columns (or every
    header the mapping names), else the very first. Excel sheets often open with a title line
    ("Årsplan 2026") above the real header; such lines are skipped, not imported."""
    named = mapping.values() if isinstance(mapping, dict) else ()
    wanted = {normalise(v) for v in named if isinstance(v, str) and v}
    for at, (_, cells) in enumerate(found[:HEADER_SEARCH]):
        if wanted:
            if wanted <= {normalise(c) for c in unique_headers(cells)}:
                return at
        elif sum(1 for c in cells[: cols.SNIFF_COLUMNS] if c and cols.known_header(c)) >= 2:
            return at
    return 0


def _day_first(sample: list[list[str]], index: int) -> bool | None:
    """The sample's verdict; None only when it holds D/M-like values that are all ambiguous
    (then the first pass reads the whole column before deciding)."""
    values = [row[index] for row in sample if index < len(row)]
    decided = dates.decide_day_first(values)
    if decided is None and not any(dates.numeric_parts(v) for v in values):
        return True
    return decided


def _shown(header: str) -> str:
    return cap(header, MAX_HEADER_SHOWN)


def _looks_like_data(cells: list[str]) -> bool:
    """A first row with dates or numbers and no known header name is data, not a header."""
    present = [c for c in cells if c]
    if not present or any(cols.known_header(c) for c in present):
        return False
    if any(len(c) > 200 for c in present):
        return True
    return any(dates.is_date(c) or c.replace(".", "").replace(",", "").isdigit()
               for c in present)


def empty() -> UnreadableFile:
    return UnreadableFile.of("file.empty", code="empty_file")


def no_data() -> UnreadableFile:
    return UnreadableFile.of("file.no_data_rows", code="no_data_rows")
