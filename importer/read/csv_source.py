"""A CSV upload as a Source: layout decided from the first lines, rows streamed on iteration."""

from __future__ import annotations

import io
import itertools
from collections.abc import Iterable, Iterator
from typing import Any

import attrs

from importer.errors import UnreadableFile
from importer.messages import render
from importer.model import Declared, JobWarning, Row
from importer.read import columns as cols
from importer.read import dates
from importer.read import text as reading
from importer.read.columns import ColumnMap
from importer.read.dates import DateColumn
from importer.read.rows import RowBuilder
from importer.read.validate import cap

PREFIX_BYTES = 65536
HEADER_SEARCH = 10  # records looked at for the header row
MAX_HEADER_SHOWN = 60  # a header quoted in an error message is cut here (validate.cap)
_WHITESPACE = b" \t\r\n\x00\xef\xbb\xbf"


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


def sniff(prefix: bytes, *, mapping: dict[str, Any] | None = None, complete: bool) -> None:
    """Raise UnreadableFile (or BadRequest for a mapping naming no header) for an upload that
    cannot be an import, judged from its first bytes. `complete` says `prefix` is the whole
    file; otherwise the last, possibly cut, line is ignored and "no data rows" is not judged.
    """
    _check_bytes(prefix, complete=complete)
    encoding = reading.encoding_of(prefix, complete=complete)
    text = reading.decode_prefix(prefix, encoding)
    if not complete:
        cut = max(text.rfind("\n"), text.rfind("\r"))
        if cut < 0:
            return  # not even the header line is complete: nothing to judge yet
        text = text[: cut + 1]
    # The date order matters only to the reader: the API sniffs every upload, so it skips it.
    layout = _layout(text, mapping=mapping, date_order=False)
    if complete and layout.sample_rows == 0:
        raise _no_data()


def open_csv(
    data: bytes, *, file_name: str, mapping: dict[str, Any] | None = None, default_year: int | None = None
) -> CsvSource:
    """Read an uploaded CSV. Raises UnreadableFile (codes not_text, empty_file, no_header,
    no_usable_column, no_data_rows) or BadRequest (bad_mapping). `default_year` completes dates
    written without a year ("3 maj"); without it such cells are rejected.
    """
    prefix = data[:PREFIX_BYTES]
    _check_bytes(prefix, complete=len(data) <= PREFIX_BYTES)
    # Only a blank prefix makes the whole file worth checking (strip copies what it keeps).
    if len(data) > PREFIX_BYTES and not prefix.strip(_WHITESPACE) and not data.strip(_WHITESPACE):
        raise _empty()
    encoding = reading.encoding_of(data)
    text = reading.decode_prefix(prefix, encoding)
    if len(data) > PREFIX_BYTES:
        cut = max(text.rfind("\n"), text.rfind("\r"))
        text = text[: cut + 1] if cut > 0 else text
    layout = _layout(text, mapping=mapping)
    return CsvSource(data, encoding, layout, file_name=file_name, default_year=default_year)


class CsvSource:
    """model.Source for a CSV file; iterating twice reads the bytes twice, never a row list.

    Row numbers are record numbers as a spreadsheet shows them: the header is the row it sits
    on (row 1 unless blank lines precede it), a quoted field with line breaks is one row, and
    blank records are skipped without a row of their own (not counted in `total_rows`).
    """

    declared = Declared()
    warnings: tuple[JobWarning, ...] = ()

    def __init__(self, data: bytes, encoding: str, layout: Layout, *, file_name: str,
                 default_year: int | None = None):
        self.file_name = file_name
        self.encoding = encoding
        self.layout = layout
        self._data = data
        count, day_first_start, day_first_end = self._first_pass()
        if count == 0:
            raise _no_data()
        self.total_rows = count
        self._builder = row_builder(layout, day_first_start, day_first_end, default_year)

    @property
    def columns(self) -> ColumnMap:
        return self.layout.columns

    def _records(self) -> Iterator[list[str]]:
        return reading.records(reading.text_stream(self._data, self.encoding),
                               self.layout.delimiter)

    def _data_records(self) -> Iterator[tuple[int, list[str]]]:
        records = enumerate(self._records(), start=1)
        for _ in itertools.islice(records, self.layout.header_row):
            pass
        return records

    def _first_pass(self) -> tuple[int, bool, bool]:
        """Count the rows (on the bytes when no date order is left to settle), else settle()."""
        layout = self.layout
        if not undecided_columns(layout):
            fast = reading.count_records(self._data, self.encoding, layout.delimiter,
                                         skip=layout.header_row)
            if fast is not None:
                return fast, layout.day_first_start is not False, layout.day_first_end is not False
        return settle(layout, self._data_records())

    def __iter__(self) -> Iterator[Row]:
        return self._builder.rows(self._data_records())


def settle(layout: Layout, records: Iterable[tuple[int, list[str]]]) -> tuple[int, bool, bool]:
    """One pass over a table's data records (those after the header): how many are not blank,
    and each date column's day-first verdict, settled on the whole column where the sample left
    it open (the decision is for the column, never row by row)."""
    undecided = undecided_columns(layout)
    evidence: dict[int | None, bool | None] = dict.fromkeys(undecided)
    count = 0
    is_blank = reading.is_blank
    if not undecided:
        for _, cells in records:
            # A first cell with any visible character settles it without a call.
            if cells and (((first := cells[0]) and not first.isspace()) or not is_blank(cells)):
                count += 1
        return count, layout.day_first_start is not False, layout.day_first_end is not False
    for _, cells in records:
        if is_blank(cells):
            continue
        count += 1
        for index in undecided:
            # Day-first proof is final; month-first proof holds until contradicted (a
            # column with both is Swedish with typos, as decide_day_first rules).
            if evidence[index] is not True and index < len(cells):
                found = dates.decide_day_first((cells[index],))
                if found is not None:
                    evidence[index] = found or evidence[index] or False
    start = layout.day_first_start
    if start is None:
        start = evidence.get(layout.columns.start)
    end = layout.day_first_end
    if end is None:
        end = evidence.get(layout.columns.end)
    # Start and end columns of one file are written alike: one decided column settles the
    # other; with nothing decided, Swedish day-first it is.
    if start is None:
        start = end
    if end is None:
        end = start
    return count, start is not False, end is not False


def undecided_columns(layout: Layout) -> list[int]:
    """The date columns whose order the sample left open (`settle` reads them whole)."""
    return [index for index, decided in ((layout.columns.start, layout.day_first_start),
                                         (layout.columns.end, layout.day_first_end))
            if index is not None and decided is None]


def row_builder(layout: Layout, day_first_start: bool, day_first_end: bool,
                default_year: int | None) -> RowBuilder:
    """The RowBuilder of a table whose date orders are settled (`settle`)."""
    serials = layout.columns.serial_dates
    start = DateColumn(day_first=day_first_start, serials=serials, default_year=default_year)
    end = DateColumn(day_first=day_first_end, serials=serials, default_year=default_year)
    return RowBuilder(layout.columns, start, end)


def _check_bytes(prefix: bytes, *, complete: bool) -> None:
    if complete and not prefix.strip(_WHITESPACE):
        raise _empty()
    reading.not_text(prefix)


def _layout(text: str, *, mapping: dict[str, Any] | None, date_order: bool = True) -> Layout:
    """Delimiter, header row and columns of a prefix; `date_order=False` leaves the day-first
    verdicts undecided (None), which only the reader needs."""
    delimiter = reading.delimiter_of(text)
    records = enumerate(reading.records(io.StringIO(text, newline=""), delimiter), 1)
    return layout_of(records, mapping=mapping, date_order=date_order, delimiter=delimiter)


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
        raise _empty()
    at = _header_at(found, mapping)
    header_row, headers = found[at]
    sample = [cells for _, cells in found[at + 1: at + 1 + cols.SAMPLE_ROWS]]
    names = [h.replace("\x00", "").replace("\ufeff", "").strip() for h in headers]
    if _looks_like_data(names):
        raise UnreadableFile(
            render("file.no_header"),
            code="no_header", details={"first_row": [_shown(h) for h in names[:20]]},
        )
    names = [h or render("file.unnamed_column", number=i + 1) for i, h in enumerate(names)]
    column_map = cols.detect(names, sample, mapping)
    if column_map.name is None or column_map.start is None:
        missing = "namn" if column_map.name is None else "datum"  # a code in details
        raise UnreadableFile(
            render("file.no_usable_column",
                   missing=render("file.missing_name" if column_map.name is None
                                  else "file.missing_date"),
                   headers=", ".join(_shown(n) for n in names[:30])),
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
    wanted = {cols.normalise(v) for v in named if isinstance(v, str) and v}
    for at, (_, cells) in enumerate(found[:HEADER_SEARCH]):
        if wanted:
            if wanted <= {cols.normalise(c) for c in cells}:
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


def _empty() -> UnreadableFile:
    return UnreadableFile(render("file.empty"), code="empty_file")


def _no_data() -> UnreadableFile:
    return UnreadableFile(render("file.no_data_rows"), code="no_data_rows")
