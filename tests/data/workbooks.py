"""Workbooks made for tests, in memory: xlsx through xlsxwriter (as Excel writes them: shared
strings, date cells with a number format, formulas with cached values), ods written by hand
(the few parts ODF 1.2 Part 3 requires), and the malicious kinds. The committed fixtures that
need other writers are made by make_fixtures.py beside this file."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import attrs

HERE = Path(__file__).resolve().parent
XLS_FIXTURE = HERE / "aktiviteter.xls"
ENCRYPTED_FIXTURE = HERE / "krypterad.xlsx"


@attrs.frozen
class Formula:
    """A formula cell and the value Excel cached for it when it last calculated."""

    formula: str
    cached: Any


@attrs.frozen
class Title:
    """A title cell merged across `width` columns ("Årsplan 2026" above the header)."""

    text: str
    width: int = 5


def xlsx(sheets: dict[str, Sequence[Sequence[Any]]], *, hidden: Iterable[str] = (),
         chart_first: bool = False, date_format: str = "d mmm yyyy", origin: tuple[int, int] = (0, 0)) -> bytes:
    """An xlsx workbook with a worksheet per entry (rows of cells: str, int/float, date,
    Formula, Title, None for no cell), `hidden` sheets hidden, optionally a chart sheet first;
    dates are date cells shown with `date_format`; the rows start at `origin` (row, column)."""
    import xlsxwriter

    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    day = book.add_format({"num_format": date_format})
    if chart_first:
        chart = book.add_chart({"type": "column"})
        chart.add_series({"values": [next(iter(sheets)), 1, 1, 2, 1]})
        book.add_chartsheet("Diagram").set_chart(chart)
    hidden = set(hidden)
    for name, rows in sheets.items():
        sheet = book.add_worksheet(name)
        if name in hidden:
            sheet.hide()
        for r, row in enumerate(rows, start=origin[0]):
            for c, value in enumerate(row, start=origin[1]):
                if value is None:
                    continue
                if isinstance(value, Title):
                    sheet.merge_range(r, c, r, c + value.width - 1, value.text)
                elif isinstance(value, Formula):
                    cached = value.cached
                    if isinstance(cached, date):
                        sheet.write_formula(r, c, value.formula, day, _serial(cached))
                    else:
                        sheet.write_formula(r, c, value.formula, None, cached)
                elif isinstance(value, date):
                    sheet.write_datetime(r, c, value, day)
                elif isinstance(value, str):
                    sheet.write_string(r, c, value)
                else:
                    sheet.write_number(r, c, value)
    book.close()
    return out.getvalue()


def _serial(day: date) -> int:
    return (day - date(1899, 12, 30)).days


def ods(sheets: dict[str, Sequence[Sequence[Any]]], *, hidden: Iterable[str] = ()) -> bytes:
    """An OpenDocument spreadsheet with a table per entry (cells: str, int/float, date with a
    Swedish display text, None); `hidden` tables are not displayed (table:display="false")."""
    hidden = set(hidden)
    tables = []
    for name, rows in sheets.items():
        style = ' table:style-name="dolt"' if name in hidden else ""
        lines = [f"<table:table table:name={quoteattr(name)}{style}>"]
        for row in rows:
            lines.append("<table:table-row>")
            for value in row:
                lines.append(_ods_cell(value))
            lines.append("</table:table-row>")
        lines.append("</table:table>")
        tables.append("".join(lines))
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
        ' xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0"'
        ' xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"'
        ' xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        '<office:automatic-styles><style:style style:name="dolt" style:family="table">'
        '<style:table-properties table:display="false"/></style:style></office:automatic-styles>'
        f'<office:body><office:spreadsheet>{"".join(tables)}</office:spreadsheet></office:body>'
        "</office:document-content>")
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"'
        ' manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/" manifest:media-type='
        '"application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as package:
        # ODF 1.2 Part 3, 3.3: `mimetype` first, stored, no extra field.
        package.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet",
                         compress_type=zipfile.ZIP_STORED)
        package.writestr("META-INF/manifest.xml", manifest, compress_type=zipfile.ZIP_DEFLATED)
        package.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def _ods_cell(value: Any) -> str:
    if value is None:
        return "<table:table-cell/>"
    if isinstance(value, datetime):
        return (f'<table:table-cell office:value-type="date" office:date-value="{value.isoformat()}">'
                f"<text:p>{value:%d/%m/%Y %H:%M}</text:p></table:table-cell>")
    if isinstance(value, date):
        return (f'<table:table-cell office:value-type="date" office:date-value="{value.isoformat()}">'
                f"<text:p>{value.day}/{value.month} {value.year}</text:p></table:table-cell>")
    if isinstance(value, int | float):
        return (f'<table:table-cell office:value-type="float" office:value="{value}">'
                f"<text:p>{value}</text:p></table:table-cell>")
    return f'<table:table-cell office:value-type="string"><text:p>{escape(str(value))}</text:p></table:table-cell>'


def zip_bomb(inflated_bytes: int = 512 << 20) -> bytes:
    """An xlsx-looking package whose one sheet inflates to `inflated_bytes` of XML from a few
    hundred KB (deflate's ~1000:1 on repeated bytes), written in 1 MB steps."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as package:
        package.writestr("[Content_Types].xml", _CONTENT_TYPES)
        package.writestr("_rels/.rels", _RELS)
        package.writestr("xl/workbook.xml", _WORKBOOK)
        package.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        with package.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            chunk = b" " * (1 << 20)
            for _ in range(inflated_bytes >> 20):
                sheet.write(chunk)
    return out.getvalue()


def sparse_xlsx(*, good_sheet_first: bool = False) -> bytes:
    """A few KB whose sheet has a header at A1 and one cell at XFD1048576: calamine would build
    a dense range of 17 billion cells for it (and abort its process when that fails). With
    `good_sheet_first` that sheet is hidden behind a small good one."""
    import xlsxwriter

    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    if good_sheet_first:
        good = book.add_worksheet("Plan")
        good.write_row(0, 0, ["Aktivitet", "Startdatum"])
        good.write_row(1, 0, ["Möte", "2026-03-02"])
    sheet = book.add_worksheet("Aktiviteter")
    if good_sheet_first:
        sheet.hide()
    sheet.write_row(0, 0, ["Aktivitet", "Startdatum"])
    sheet.write_row(1, 0, ["Möte", "2026-03-02"])
    sheet.write(1048575, 16383, "x")
    book.close()
    return out.getvalue()


def damaged_sheet_xlsx() -> bytes:
    """A ZIP with the parts of an xlsx whose sheet XML is cut off in the middle of a cell."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as package:
        package.writestr("[Content_Types].xml", _CONTENT_TYPES)
        package.writestr("_rels/.rels", _RELS)
        package.writestr("xl/workbook.xml", _WORKBOOK)
        package.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        package.writestr("xl/worksheets/sheet1.xml",
                         '<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/'
                         'spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>Akt')
    return out.getvalue()


_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
    'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
    'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName='
    '"/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.'
    'main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.'
    'openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>')
_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
    'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
    'officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>')
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/'
    'spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships"><sheets><sheet name="Blad1" sheetId="1" r:id="rId1"/></sheets></workbook>')
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
    'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
    'officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>')
