"""A CSV upload as a Source: layout decided from the first lines, rows streamed on iteration."""

from __future__ import annotations

import io
import itertools
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import attrs

from importer.errors import UnreadableFile
from importer.messages import SWEDISH, Term, render_in
from importer.model import Declared, JobWarning, Row
from importer.read import columns as cols
from importer.read import dates, encoding
from importer.read import text as reading
from importer.read.calendar import layout_day_first
from importer.read.columns import ColumnMap
from importer.read.dates import DateColumn
from importer.read.headers import normalise, unique_headers
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
    decoding = encoding.decoding_of(prefix, complete=complete)
    text = encoding.decode_prefix(prefix, decoding.encoding, decoding.errors)
    if not complete:
        cut = max(text.rfind("\n"), text.rfind("\r"))
        if cut < 0:
            return  # not even the header line is complete: nothing to judge yet
        text = text[: cut + 1]
    if reading.needs_cleaning(prefix, decoding.encoding, decoding.errors):
        text = reading.clean_text(text)
    # The date order matters only to the reader: the API sniffs every upload, so it skips it.
    layout = _layout(text, mapping=mapping, date_order=False)
    if complete and layout.sample_rows == 0:
        raise _no_data()


def open_csv(
    data: bytes, *, file_name: str, mapping: dict[str, Any] | None = None, default_year: int | None = None,
    date_order: str | None = None,
) -> CsvSource:
    """Read an uploaded CSV. Raises UnreadableFile (codes not_text, empty_file, no_header,
    no_usable_column, no_data_rows) or BadRequest (bad_mapping). `default_year` completes dates
    written without a year ("3 maj"); without it such cells are rejected. `date_order`
    ("day_first" or "month_first", else ValueError) is the person's choice for D/M/Y columns:
    it overrides what the data, the layout or the default would decide.
    """
    prefix = data[:PREFIX_BYTES]
    _check_bytes(prefix, complete=len(data) <= PREFIX_BYTES)
    # Only a blank prefix makes the whole file worth checking (strip copies what it keeps).
    if len(data) > PREFIX_BYTES and not prefix.strip(_WHITESPACE) and not data.strip(_WHITESPACE):
        raise _empty()
    decoding = encoding.decoding_of(data)
    text = encoding.decode_prefix(prefix, decoding.encoding, decoding.errors)
    if len(data) > PREFIX_BYTES:
        cut = max(text.rfind("\n"), text.rfind("\r"))
        text = text[: cut + 1] if cut > 0 else text
    if reading.needs_cleaning(prefix, decoding.encoding, decoding.errors):
        text = reading.clean_text(text)
    layout = _layout(text, mapping=mapping)
    return CsvSource(data, decoding.encoding, layout, file_name=file_name, default_year=default_year,
                     errors=decoding.errors, date_order=date_order, warnings=_repaired(decoding))


class CsvSource:
    """model.Source for a CSV file; iterating twice reads the bytes twice, never a row list.

    Row numbers are record numbers as a spreadsheet shows them: the header is the row it sits
    on (row 1 unless blank lines precede it), a quoted field with line breaks is one row, and
    blank records are skipped without a row of their own (not counted in `total_rows`).
    Every header and cell is read through text.clean (invisible characters, NFC).
    `date_order` and `date_order_source` say how the start column's D/M/Y dates are read
    (`DateOrder`; None without a date column); `warnings` are encoding_repaired and
    date_order_assumed.
    """

    declared = Declared()

    def __init__(self, data: bytes, encoding: str, layout: Layout, *, file_name: str,
                 default_year: int | None = None, errors: str = "replace",
                 date_order: str | None = None, warnings: tuple[JobWarning, ...] = ()):
        self.file_name = file_name
        self.encoding = encoding
        self.errors = errors
        self.layout = layout
        self._data = data
        self._clean = reading.needs_cleaning(data, encoding, errors)
        table = first_pass(layout, self._data_records, self._count, date_order=date_order,
                           default_year=default_year)
        self.total_rows = table.count
        self.date_order, self.date_order_source = table.date_order, table.date_order_source
        self.warnings: tuple[JobWarning, ...] = (*warnings, *table.warnings)
        self._builder = table.builder

    @property
    def columns(self) -> ColumnMap:
        return self.layout.columns

    def _records(self) -> Iterator[list[str]]:
        return reading.records(
            reading.text_stream(self._data, self.encoding, errors=self.errors, clean=self._clean),
            self.layout.delimiter)

    def _data_records(self) -> Iterator[tuple[int, list[str]]]:
        records = enumerate(self._records(), start=1)
        for _ in itertools.islice(records, self.layout.header_row):
            pass
        return records

    def _count(self) -> int:
        """The rows, counted on the bytes where that is exact, else by a csv pass."""
        layout = self.layout
        fast = reading.count_records(self._data, self.encoding, layout.delimiter, skip=layout.header_row,
                                     clean=self._clean, errors=self.errors)
        return fast if fast is not None else count_rows(self._data_records())

    def __iter__(self) -> Iterator[Row]:
        return self._builder.rows(self._data_records())


#: The values of `date_order` (API.md): which part of a D/M/Y date comes first.
DATE_ORDERS = {"day_first": True, "month_first": False}


@attrs.frozen(kw_only=True)
class DateOrder:
    """How one date column's D/M/Y values are read, and why: `source` is "request" (the
    person's date_order), "data" (a value that reads one way only, or no D/M/Y value at all),
    "layout" (a known export's order: calendar.layout_day_first) or "default" (day-first, as
    Swedish files are). `ambiguous` counts the values that read both ways; `example` is one."""

    day_first: bool
    source: str
    ambiguous: int = 0
    example: str | None = None

    @property
    def name(self) -> str:
        """"day_first" or "month_first", as `date_order` names it."""
        return "day_first" if self.day_first else "month_first"


@attrs.frozen(kw_only=True)
class FirstPass:
    """What one pass over a table's data rows decided, before any row is read for good: how
    many rows are not blank, each date column's order, the warnings about them, and the
    RowBuilder that reads the rows with those orders."""

    count: int
    start: DateOrder | None
    end: DateOrder | None
    warnings: tuple[JobWarning, ...]
    builder: RowBuilder

    @property
    def date_order(self) -> str | None:
        """How the start column's D/M/Y dates are read ("day_first"/"month_first"; None
        without a date column)."""
        shown = self.start or self.end
        return shown.name if shown else None

    @property
    def date_order_source(self) -> str | None:
        shown = self.start or self.end
        return shown.source if shown else None


def first_pass(layout: Layout, data_records: Callable[[], Iterable[tuple[int, list[str]]]],
               count: Callable[[], int], *, date_order: str | None, default_year: int | None) -> FirstPass:
    """The first pass of every table reader (CSV here, workbooks in spreadsheet.py): the
    records below the header are read whole only when a date column's order is still open
    (settle_orders), else `count` counts the rows its own cheaper way. `date_order` (the
    request's; ValueError for another value than DATE_ORDERS') overrides the data's.
    Raises UnreadableFile(no_data_rows) for a table without a row."""
    requested = requested_order(date_order)
    if requested is None and undecided_columns(layout):
        rows, start, end = settle_orders(layout, data_records())
    else:
        rows, (start, end) = count(), decide_orders(layout, requested)
    if rows == 0:
        raise _no_data()
    return FirstPass(count=rows, start=start, end=end,
                     warnings=date_order_warnings(layout, start, end, default_year),
                     builder=row_builder(layout, start is None or start.day_first,
                                         end is None or end.day_first, default_year))


def requested_order(date_order: str | None) -> bool | None:
    """True for "day_first", False for "month_first", None for no choice; ValueError else."""
    if date_order is None:
        return None
    if date_order not in DATE_ORDERS:
        raise ValueError(f"date_order must be one of {sorted(DATE_ORDERS)}, not {date_order!r}")
    return DATE_ORDERS[date_order]


def settle(layout: Layout, records: Iterable[tuple[int, list[str]]]) -> tuple[int, bool, bool]:
    """`settle_orders` as a row count and each date column's day-first verdict."""
    count, start, end = settle_orders(layout, records)
    return count, start is None or start.day_first, end is None or end.day_first


def settle_orders(layout: Layout, records: Iterable[tuple[int, list[str]]]
                  ) -> tuple[int, DateOrder | None, DateOrder | None]:
    """One pass over a table's data records (those after the header): how many are not blank,
    and each date column's order, settled on the whole column where the sample left it open
    (the decision is for the column, never row by row; see `decide_orders`)."""
    undecided = undecided_columns(layout)
    evidence: dict[int, bool | None] = dict.fromkeys(undecided)
    ambiguous = dict.fromkeys(undecided, 0)
    examples: dict[int, str] = {}
    count = 0
    is_blank = reading.is_blank
    if not undecided:
        return (count_rows(records), *decide_orders(layout, None))
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
                elif evidence[index] is None and _reads_both_ways(cells[index]):
                    ambiguous[index] += 1
                    if index not in examples and _readable(cells[index]):
                        examples[index] = cells[index].strip()
    return (count, *decide_orders(layout, None, evidence, ambiguous, examples))


def count_rows(records: Iterable[tuple[int, list[str]]]) -> int:
    """How many records are not blank."""
    count = 0
    is_blank = reading.is_blank
    for _, cells in records:
        # A first cell with any visible character settles it without a call.
        if cells and (((first := cells[0]) and not first.isspace()) or not is_blank(cells)):
            count += 1
    return count


def decide_orders(layout: Layout, requested: bool | None, evidence: dict[int, bool | None] | None = None,
                  ambiguous: dict[int, int] | None = None, examples: dict[int, str] | None = None,
                  ) -> tuple[DateOrder | None, DateOrder | None]:
    """The order of the start and end columns (None: no such column): the request's, else the
    data's (the sample's verdict, else the whole column's `evidence`). Start and end columns
    of one file are written alike: one decided column settles the other. With nothing
    decided, the layout's order (calendar.layout_day_first), else Swedish day-first; such a
    column carries its `ambiguous` count and an `example` for date_order_assumed."""
    starts, ends = layout.columns.start, layout.columns.end
    evidence = evidence or {}

    def of(index: int | None, sampled: bool | None) -> DateOrder | None:
        if index is None:
            return None
        if requested is not None:
            return DateOrder(day_first=requested, source="request")
        found = sampled if sampled is not None else evidence.get(index)
        return None if found is None else DateOrder(day_first=found, source="data")

    start, end = of(starts, layout.day_first_start), of(ends, layout.day_first_end)
    if start is None and end is not None:
        start = of(starts, end.day_first)
    if end is None and start is not None:
        end = of(ends, start.day_first)
    if start is None and end is None:
        by_layout = layout_day_first(layout.columns)
        source = "default" if by_layout is None else "layout"
        start, end = (
            None if index is None else DateOrder(
                day_first=by_layout is not False, source=source,
                ambiguous=(ambiguous or {}).get(index, 0), example=(examples or {}).get(index))
            for index in (starts, ends))
    return start, end


def date_order_warnings(layout: Layout, start: DateOrder | None, end: DateOrder | None,
                        default_year: int | None) -> tuple[JobWarning, ...]:
    """A date_order_assumed warning for each date column whose every D/M/Y value reads both
    ways and whose order was therefore taken from the layout or the default, with the evidence:
    how many values, one of them (`example`) and the day it was read as (`read_as`)."""
    warnings = []
    for index, order in ((layout.columns.start, start), (layout.columns.end, end)):
        if index is None or order is None or order.source not in ("layout", "default") or not order.example:
            continue
        read_as = DateColumn(day_first=order.day_first, default_year=default_year).parse(order.example)
        warnings.append(JobWarning(code="date_order_assumed", details={
            "column": layout.columns.headers[index], "ambiguous": order.ambiguous,
            "order": order.name, "source": order.source, "example": order.example,
            "read_as": read_as.isoformat()}))
    return tuple(warnings)


def _reads_both_ways(cell: str) -> bool:
    """A D/M/Y value whose first two parts are different numbers of 1..12 (01/02/2026)."""
    parts = dates.numeric_parts(cell)
    return parts is not None and parts[0] != parts[1] and 0 < parts[0] <= 12 and 0 < parts[1] <= 12


def _readable(cell: str) -> bool:
    try:
        DateColumn().parse(cell)
    except dates.DateError:
        return False
    return True


_REPAIRED_AS = {"cp1252": "Windows-1252", "mac_roman": "Mac Roman", "cp850": "DOS (cp850)"}


def _repaired(decoding: encoding.Decoding) -> tuple[JobWarning, ...]:
    """The encoding_repaired warning of a UTF-8 file whose stray bytes were read in a legacy
    code page (encoding.decoding_of), else nothing."""
    if decoding.repaired_as is None:
        return ()
    return (JobWarning(code="encoding_repaired", details={
        "bytes": decoding.repaired_bytes, "rows": decoding.repaired_rows,
        "first_row": decoding.first_repaired_row, "encoding": "UTF-8",
        "repaired_as": _REPAIRED_AS.get(decoding.repaired_as, decoding.repaired_as)}),)


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
    encoding.not_text(prefix)


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


def _empty() -> UnreadableFile:
    return UnreadableFile.of("file.empty", code="empty_file")


def _no_data() -> UnreadableFile:
    return UnreadableFile.of("file.no_data_rows", code="no_data_rows")
