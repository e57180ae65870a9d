"""A workbook upload (xlsx, xlsm, xls, ods) as a Source: one sheet's cells, typed by the
spreadsheet, turned into the records of text that the CSV reader's layout and rows take.

Read with python-calamine (Rust calamine). Cells come typed: a cell the spreadsheet types as a
date is a date whatever its number format, a formula gives its cached value. Each cell becomes
text once, here, and from then on a sheet is a CSV file that was never written:

- a date (or a date-time: the wheel keeps days) becomes ISO `YYYY-MM-DD`, which validation
  reads on its fast path and column detection knows as a date; no second kind of cell
  travels through the rules;
- a whole number stored as a float (every number in xlsx is one) is written without `.0`;
  other numbers with up to 15 significant digits, as Excel shows them;
- booleans as Swedish Excel writes them in CSV (SANT/FALSKT), times as HH:MM.

The sheet read is the first visible worksheet with data (hidden sheets, chart sheets and
macro sheets are skipped) unless `sheet` names one; other visible sheets with data give an
`other_sheets` warning. Row numbers are the sheet's own. Title rows above the header (merged
across columns or not) and blank columns to the left of the table are skipped.

Calamine holds the whole sheet while it is read (its ranges are dense: rows x columns). Never
hand it an upload that has not passed `check_package` here and, at the API, the limits of
importer/read/spreadsheet_sandbox.py: a workbook of a few KB can claim a range of 10^10 cells,
and calamine then aborts the process that asked.
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Iterator
from typing import Any

import python_calamine as calamine

from importer.errors import BadRequest, UnreadableFile
from importer.model import Declared, JobWarning, Row
from importer.read import columns as cols
from importer.read import spreadsheet_kinds as kinds
from importer.read.cells import TEXTS, text_of
from importer.read.columns import ColumnMap
from importer.read.date_order import first_pass
from importer.read.layout import HEADER_SEARCH, layout_of
from importer.read.text import BLANK

#: Cells (rows x columns of the dense range calamine builds) a sheet may have: about 75 bytes
#: each while it is read, so ~600 MB at the cap, within the reader's 1 GB.
MAX_CELLS = 8_000_000
MAX_SHEETS_NAMED = 50  # sheet names listed in a message or warning



def open_spreadsheet(content: bytes | bytearray, *, media_type: str, file_name: str,
                     mapping: dict[str, Any] | None = None, sheet: str | None = None,
                     default_year: int | None = None, date_order: str | None = None,
                     every_sheet: bool = False) -> SpreadsheetSource:
    """Read a workbook upload. Raises UnreadableFile (workbook_encrypted, workbook_damaged,
    workbook_too_large, empty_file, no_header, no_usable_column, no_data_rows) or BadRequest
    (bad_sheet: `sheet` names no sheet of the workbook; bad_mapping). `date_order` is the
    request's order for D/M/Y dates typed as text (date_order.first_pass). `every_sheet` also
    loads the sheets it would skip (hidden ones): the API's check does, so that any sheet a later
    request names (a preview's PATCH, an import from it) has been read within its limits once."""
    kind = kinds.WORKBOOKS[media_type]
    kinds.check_package(content, media_type)
    book = _open(content, kind)
    try:
        chosen, others, readable = _choose(book, kind, sheet)
        if every_sheet:
            for name in book.sheet_names:
                if name != chosen.name and name not in readable:
                    _load(book, kind, name)
    finally:
        book.close()
    return SpreadsheetSource(chosen, kind=kind, file_name=file_name, mapping=mapping,
                             default_year=default_year, other_sheets=others, date_order=date_order,
                             sheet_names=readable)


class SpreadsheetSource:
    """model.Source for one sheet of a workbook; iterating twice converts the cells twice,
    never keeping a list of rows (calamine keeps the sheet's cells).

    `kind` is the preview's format kind (xlsx, xls or ods; an xlsm is an xlsx), `sheet_name`
    the sheet read, `sheet_names` the workbook's visible worksheets in order.
    """

    declared = Declared()

    def __init__(self, sheet: calamine.CalamineSheet, *, kind: str, file_name: str,
                 mapping: dict[str, Any] | None, default_year: int | None,
                 other_sheets: list[str], date_order: str | None = None,
                 sheet_names: list[str] | None = None):
        self.file_name = file_name
        self.kind = "xlsx" if kind == "xlsm" else kind
        self.sheet_names = sheet_names if sheet_names is not None else [sheet.name]
        self.sheet_name = sheet.name
        self._sheet = sheet
        self._titles = _title_rows(sheet)
        self._left = 0
        layout = layout_of(self._records(), mapping=mapping)
        left = self._blank_left(layout.header_row)
        if left:
            self._left = left
            layout = layout_of(self._records(), mapping=mapping)
        self.layout = layout
        # Only rows above the header are titles; a merged row below it is a row like any other.
        self._titles = frozenset(number for number in self._titles if number < layout.header_row)
        # Dates typed by the spreadsheet are ISO text by now; a column of D/M/Y text is decided
        # (and warned about) exactly as in a CSV.
        # A workbook's text cell may hold a NUL (xlsx writers put it in the XML as it is, and
        # calamine reads it back): such a row is rejected (validate.Rules check_text).
        table = first_pass(layout, self._data_records, self._count, date_order=date_order,
                           default_year=default_year, check_text=True)
        self.total_rows = table.count
        self.date_order, self.date_order_source = table.date_order, table.date_order_source
        self._builder = table.builder
        others = () if not other_sheets else (JobWarning(code="other_sheets", details={
            "sheet": sheet.name, "sheets": other_sheets[:MAX_SHEETS_NAMED]}),)
        self.warnings: tuple[JobWarning, ...] = (*table.warnings, *others)

    @property
    def columns(self) -> ColumnMap:
        return self.layout.columns

    def __iter__(self) -> Iterator[Row]:
        return self._builder.rows(self._data_records())

    def _records(self) -> Iterator[tuple[int, list[str]]]:
        """`(row number, cells as text)` for every row of the sheet from row 1; title rows
        come as blank records (skipped like blank lines)."""
        titles, left = self._titles, self._left
        for number, row in enumerate(self._sheet.iter_rows(), start=1):
            if number in titles:
                yield number, []
                continue
            cells = [value if type(value) is str else text_of(value) for value in row]
            yield number, cells[left:] if left else cells

    def sample_records(self, n: int) -> list[list[str]]:
        """The first `n` non-blank records below the header, as text (a preview's samples)."""
        found = (cells for _, cells in self._data_records() if any(c.strip() for c in cells))
        return list(itertools.islice(found, n))

    def _data_records(self) -> Iterator[tuple[int, list[str]]]:
        """The records below the header: the hot path, one list comprehension per row."""
        left, number = self._left, self.layout.header_row
        texts = TEXTS
        for row in itertools.islice(self._sheet.iter_rows(), number, None):
            number += 1
            cells = [value if type(value) is str else texts.get(type(value), text_of)(value)
                     for value in row]
            yield number, cells[left:] if left else cells

    def _count(self) -> int:
        """Rows below the header that are not blank, counted on the typed cells: a cell that is
        not text is never blank, so only text cells are looked at (no conversion)."""
        count = 0
        for row in itertools.islice(self._sheet.iter_rows(), self.layout.header_row, None):
            first = row[0]
            # A first cell that is not blank text settles it without a call.
            if (type(first) is not str or first.strip(BLANK)) or any(
                    type(cell) is not str or cell.strip(BLANK) for cell in row):
                count += 1
        return count

    def _blank_left(self, header_row: int) -> int:
        """How many columns left of the header's first cell are blank in every row below it
        (a table that starts in column B under a title in A1): skipped, not "Kolumn 1"."""
        header = next((cells for number, cells in self._records() if number == header_row), [])
        left = 0
        while left < len(header) and not header[left].strip():
            left += 1
        if not left or left == len(header):
            return 0
        for row in itertools.islice(self._sheet.iter_rows(), header_row, None):
            if any(type(cell) is not str or cell.strip() for cell in row[:left]):
                return 0
        return left


def _open(content: bytes | bytearray, kind: str) -> calamine.CalamineWorkbook:
    try:
        return calamine.CalamineWorkbook.from_filelike(io.BytesIO(content))
    except calamine.PasswordError:
        raise kinds.encrypted() from None
    except (calamine.CalamineError, OSError, ValueError) as exc:
        raise kinds.damaged(kind, str(exc)) from None
    except BaseException as exc:  # a Rust panic (pyo3's PanicException) on a malformed file
        if type(exc).__name__ != "PanicException":
            raise
        raise kinds.damaged(kind, str(exc)) from None


def _load(book: calamine.CalamineWorkbook, kind: str, name: str) -> calamine.CalamineSheet:
    try:
        sheet = book.get_sheet_by_name(name)
    except calamine.PasswordError:
        raise kinds.encrypted() from None
    except (calamine.CalamineError, OSError, ValueError) as exc:
        raise kinds.damaged(kind, str(exc)) from None
    except BaseException as exc:
        if type(exc).__name__ != "PanicException":
            raise
        raise kinds.damaged(kind, str(exc)) from None
    if sheet.height * sheet.width > MAX_CELLS:
        raise kinds.too_large("file.workbook_cells", sheet=name, rows=sheet.height,
                              columns=sheet.width, limit=MAX_CELLS)
    return sheet


def _choose(book: calamine.CalamineWorkbook, kind: str,
            wanted: str | None) -> tuple[calamine.CalamineSheet, list[str], list[str]]:
    """The sheet to read, the names of the other visible worksheets that hold data, and the
    names of all visible worksheets."""
    readable = [meta.name for meta in book.sheets_metadata
                if meta.typ == calamine.SheetTypeEnum.WorkSheet
                and meta.visible == calamine.SheetVisibleEnum.Visible]
    chosen = None
    if wanted is not None:
        name = _named(book.sheet_names, wanted)
        if name is None:
            raise BadRequest.of("file.sheet_unknown", params={
                "sheet": wanted[:100], "sheets": ", ".join(readable[:MAX_SHEETS_NAMED])},
                             code="bad_sheet",
                             details={"sheet": wanted[:100], "sheets": readable[:MAX_SHEETS_NAMED]})
        chosen = _load(book, kind, name)
    others = []
    for name in readable:
        if chosen is not None and name == chosen.name:
            continue
        sheet = _load(book, kind, name)
        if _has_data(sheet):
            if chosen is None:
                chosen = sheet
            else:
                others.append(name)
        del sheet
    if chosen is None:
        raise UnreadableFile.of("file.workbook_no_data", params={"sheets": ", ".join(readable[:MAX_SHEETS_NAMED])},
                             code="empty_file", details={"sheets": readable[:MAX_SHEETS_NAMED]})
    return chosen, others, readable


def _named(names: list[str], wanted: str) -> str | None:
    """The sheet `wanted` names: exactly, else ignoring case and surrounding space."""
    if wanted in names:
        return wanted
    folded = wanted.strip().casefold()
    return next((name for name in names if name.strip().casefold() == folded), None)


def _has_data(sheet: calamine.CalamineSheet) -> bool:
    if not sheet.height or not sheet.width:
        return False  # calamine's iter_rows cannot start on an empty range
    for row in sheet.iter_rows():
        for cell in row:
            if type(cell) is not str or cell.strip():
                return True
    return False


def _title_rows(sheet: calamine.CalamineSheet) -> frozenset[int]:
    """Rows (1-based) whose only value is the first cell of a range merged across columns, in
    the first rows where a header is looked for: a title ("Årsplan 2026") above the table."""
    merged = sheet.merged_cell_ranges or []
    anchors = {(start[0], start[1]) for start, end in merged
               if end[1] > start[1] and start[0] < HEADER_SEARCH + cols.SAMPLE_ROWS}
    if not anchors:
        return frozenset()
    titles = set()
    for index, row in enumerate(sheet.to_python(skip_empty_area=False,
                                                nrows=HEADER_SEARCH + cols.SAMPLE_ROWS)):
        filled = [column for column, cell in enumerate(row)
                  if type(cell) is not str or cell.strip()]
        if len(filled) == 1 and (index, filled[0]) in anchors:
            titles.add(index + 1)
    return frozenset(titles)
