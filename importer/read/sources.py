"""The one way from stored bytes and their media type to a Source (importer/model.py)."""

from __future__ import annotations

from typing import Any

from importer.model import Source
from importer.read import spreadsheet_kinds as kinds
from importer.read.csv_source import open_csv
from importer.read.spreadsheet import open_spreadsheet
from importer.read.structured import parse_payload

#: Media types `import_files` stores (its CHECK constraint import_files_media_type_valid):
#: text/csv, the structured JSON form, and the workbooks of spreadsheet_kinds.WORKBOOKS.
CSV = kinds.CSV
STRUCTURED = "application/json"
WORKBOOKS = frozenset(kinds.WORKBOOKS)
MEDIA_TYPES = frozenset({CSV, STRUCTURED, *WORKBOOKS})


def open_source(media_type: str, content: bytes, file_name: str, mapping: dict[str, Any] | None, *,
                default_year: int | None = None, sheet: str | None = None,
                date_order: str | None = None) -> Source:
    """The stored upload as a Source: CSV, a workbook (xlsx, xlsm, xls, ods; `sheet` names the
    sheet to read, else the first visible one with data), or the structured JSON form of API.md.

    `default_year` (the wheel's year) completes dates written without one (`3 maj`);
    `date_order` ("day_first" or "month_first") is the request's order for D/M/Y dates written
    as text, in a CSV or a workbook (date_order.first_pass; ValueError for another value).
    Raises UnreadableFile or BadRequest (importer/errors.py) for a file that cannot be an import.
    """
    if media_type == STRUCTURED:
        _mode, _name, source = parse_payload(content)
        return source
    if media_type in WORKBOOKS:
        return open_spreadsheet(content, media_type=media_type, file_name=file_name, mapping=mapping,
                                sheet=sheet, default_year=default_year, date_order=date_order)
    return open_csv(content, file_name=file_name, mapping=mapping, default_year=default_year,
                    date_order=date_order)
