"""A CSV upload as a Source: layout decided from the first lines, rows streamed on iteration."""

from __future__ import annotations

import io
import itertools
from collections.abc import Iterator
from typing import Any

from importer.model import Declared, JobWarning, Row
from importer.read import encoding
from importer.read import text as reading
from importer.read.columns import ColumnMap
from importer.read.date_order import count_rows, first_pass
from importer.read.layout import Layout, empty, layout_of, no_data

PREFIX_BYTES = 65536
_WHITESPACE = b" \t\r\n\x00\xef\xbb\xbf"


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
        raise no_data()


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
        raise empty()
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
                           default_year=default_year, check_text=reading.has_stray_nul(data, encoding))
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

    def sample_records(self, n: int) -> list[list[str]]:
        """The first `n` non-blank records below the header, cleaned as rows are (a preview's
        samples)."""
        found = (cells for _, cells in self._data_records() if not reading.is_blank(cells))
        return list(itertools.islice(found, n))

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


def _check_bytes(prefix: bytes, *, complete: bool) -> None:
    if complete and not prefix.strip(_WHITESPACE):
        raise empty()
    encoding.not_text(prefix)


def _layout(text: str, *, mapping: dict[str, Any] | None, date_order: bool = True) -> Layout:
    """Delimiter, header row and columns of a prefix; `date_order=False` leaves the day-first
    verdicts undecided (None), which only the reader needs."""
    delimiter = reading.delimiter_of(text)
    records = enumerate(reading.records(io.StringIO(text, newline=""), delimiter), 1)
    return layout_of(records, mapping=mapping, date_order=date_order, delimiter=delimiter)



