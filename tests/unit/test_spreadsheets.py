"""Workbooks as sources: xlsx, xls and ods read through the CSV reader's layout and rules, typed
date cells as dates, the sheet chosen as API.md says, and every unsafe workbook refused before
calamine is handed it."""

from __future__ import annotations

import time
import tracemalloc
from datetime import date, datetime

import pytest

from importer.errors import BadRequest, UnreadableFile
from importer.model import Activity, JobWarning, Rejection
from importer.read import spreadsheet_kinds as kinds
from importer.read.cells import text_of
from importer.read.sources import open_source
from tests.data.workbooks import (
    ENCRYPTED_FIXTURE,
    XLS_FIXTURE,
    Formula,
    Title,
    damaged_sheet_xlsx,
    ods,
    xlsx,
    zip_bomb,
)

HEADER = ["Aktivitet", "Startdatum", "Slutdatum", "Område"]


def read(content: bytes, *, sheet: str | None = None, file_name: str = "fil.xlsx"):
    return open_source(kinds.media_type_of(content), content, file_name, None, sheet=sheet)


def activities(source) -> list[tuple]:
    return [(r.row_number, r.name, r.start, r.end, r.ring) for r in source if isinstance(r, Activity)]


def test_xlsx_date_cells_are_dates_whatever_their_display_format():
    """Date cells (ECMA-376 Part 1, 18.8.30: a numFmt makes a number a date) are read as the
    dates they are, shown as `d mmm yyyy` or `m/d/yy`: never as serial numbers or by the format."""
    for date_format in ("d mmm yyyy", "m/d/yy", "dddd d mmmm"):
        content = xlsx({"Aktiviteter": [HEADER, ["Möte", date(2026, 3, 2), date(2026, 3, 12), "Ekonomi"],
                                        ["Fest", date(2026, 12, 1), None, "Personal"]]},
                       date_format=date_format)
        source = read(content)
        assert activities(source) == [(2, "Möte", date(2026, 3, 2), date(2026, 3, 12), "Ekonomi"),
                                      (3, "Fest", date(2026, 12, 1), date(2026, 12, 1), "Personal")]
        assert source.total_rows == 2 and source.warnings == ()


def test_a_real_xls_file_reads_its_date_cells_as_dates():
    """A BIFF8 workbook (MS-XLS, written by xlwt as Excel 97-2003 writes it) reads like the
    xlsx: date cells as dates in both display formats, whole numbers without `.0`, and its
    hidden sheet skipped."""
    content = XLS_FIXTURE.read_bytes()
    assert kinds.media_type_of(content) == kinds.XLS
    source = read(content, file_name="aktiviteter.xls")
    assert source.sheet_name == "Aktiviteter"
    assert activities(source) == [
        (2, "Budgetmöte", date(2026, 3, 2), date(2026, 3, 3), "Ekonomi"),
        (3, "Årsredovisning", date(2026, 4, 15), date(2026, 5, 30), "Ekonomi"),
        (4, "Vårfest", date(2026, 6, 5), date(2026, 6, 5), "Personal")]
    assert [r.description for r in source] == ["Antal: 4", "Antal: 12", "Antal: 1.5"]
    assert source.warnings == ()  # "Dolt" has data but is hidden


def test_ods_date_cells_are_dates_and_hidden_tables_are_skipped():
    """An OpenDocument spreadsheet (ODF 1.2: office:value-type="date") gives its date and
    date-time cells as dates, whatever text the cell shows; a table with table:display="false"
    is neither read nor warned about."""
    content = ods({"Dolt": [HEADER, ["Hemlig", date(2026, 1, 1), None, "X"]],
                   "Plan": [HEADER, ["Möte", date(2026, 3, 2), datetime(2026, 3, 4, 15, 30), "Ekonomi"]]},
                  hidden={"Dolt"})
    assert kinds.media_type_of(content) == kinds.ODS
    source = read(content, file_name="plan.ods")
    assert source.sheet_name == "Plan"
    assert activities(source) == [(2, "Möte", date(2026, 3, 2), date(2026, 3, 4), "Ekonomi")]
    assert source.warnings == ()


def test_the_content_decides_never_the_name():
    """xlsx bytes named .csv are an xlsx (media type from the ZIP's [Content_Types].xml), CSV
    bytes named .xlsx are CSV, and a ZIP that is no workbook is not taken for one."""
    content = xlsx({"Blad1": [HEADER, ["Möte", date(2026, 3, 2), None, "Ekonomi"]]})
    assert kinds.media_type_of(content) == kinds.XLSX
    assert activities(read(content, file_name="export.csv"))[0][1:3] == ("Möte", date(2026, 3, 2))
    assert kinds.media_type_of(b"Aktivitet,Startdatum\nM\xc3\xb6te,2026-03-02\n") == kinds.CSV
    import io
    import zipfile
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as package:
        package.writestr("readme.txt", "hej")
    assert kinds.media_type_of(out.getvalue()) == kinds.CSV


def test_a_macro_enabled_workbook_is_an_xlsm_and_reads_like_an_xlsx():
    """A package whose [Content_Types].xml names a macro-enabled workbook part (ECMA-376 Part 2;
    `application/vnd.ms-excel.sheet.macroEnabled.main+xml`) is stored as xlsm and read alike."""
    import io
    import zipfile
    plain = xlsx({"Blad1": [HEADER, ["Möte", date(2026, 3, 2), None, "Ekonomi"]]})
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(plain)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "[Content_Types].xml":
                data = data.replace(b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
                                    b"application/vnd.ms-excel.sheet.macroEnabled.main+xml")
            target.writestr(info.filename, data)
    assert kinds.media_type_of(out.getvalue()) == kinds.XLSM
    assert activities(read(out.getvalue(), file_name="plan.xlsm")) == [
        (2, "Möte", date(2026, 3, 2), date(2026, 3, 2), "Ekonomi")]


def test_the_first_visible_worksheet_with_data_is_read_and_the_others_are_named():
    """A chart sheet, a hidden sheet and an empty sheet before the data are skipped; the other
    visible sheets with data give one other_sheets warning naming them and the sheet read."""
    rows = [HEADER, ["Möte", date(2026, 3, 2), None, "Ekonomi"]]
    content = xlsx({"Dold": rows, "Tom": [], "Plan": rows, "Extra": rows, "Mer": rows},
                   hidden={"Dold"}, chart_first=True)
    source = read(content)
    assert source.sheet_name == "Plan" and source.kind == "xlsx"
    assert source.sheet_names == ["Tom", "Plan", "Extra", "Mer"]
    assert source.warnings == (JobWarning(code="other_sheets",
                                          details={"sheet": "Plan", "sheets": ["Extra", "Mer"]}),)


def test_sheet_names_the_sheet_to_read_and_an_unknown_one_is_a_bad_request():
    """`sheet` picks a sheet by name (case and surrounding space ignored); a name the workbook
    lacks is BadRequest bad_sheet listing the visible worksheets."""
    content = xlsx({"Plan": [HEADER, ["Möte", date(2026, 3, 2), None, "Ekonomi"]],
                    "Budget": [HEADER, ["Bokslut", date(2026, 5, 1), None, "Ekonomi"]]})
    source = read(content, sheet=" budget")
    assert source.sheet_name == "Budget"
    assert activities(source) == [(2, "Bokslut", date(2026, 5, 1), date(2026, 5, 1), "Ekonomi")]
    assert source.warnings == (JobWarning(code="other_sheets", details={"sheet": "Budget", "sheets": ["Plan"]}),)
    with pytest.raises(BadRequest) as caught:
        read(content, sheet="Blad9")
    assert caught.value.code == "bad_sheet"
    assert caught.value.details == {"sheet": "Blad9", "sheets": ["Plan", "Budget"]}
    assert "Plan, Budget" in caught.value.message


def test_formulas_give_their_cached_values():
    """A formula cell is read as the value Excel cached (ECMA-376 Part 1, 18.3.1.96 `v`): a
    date formula as that date, a text formula as its text, never the formula itself."""
    content = xlsx({"Plan": [
        HEADER,
        ["Möte", date(2026, 3, 2), Formula("=B2+10", date(2026, 3, 12)), Formula('="Eko"&"nomi"', "Ekonomi")],
    ]})
    assert activities(read(content)) == [(2, "Möte", date(2026, 3, 2), date(2026, 3, 12), "Ekonomi")]


def test_title_rows_and_blank_rows_and_columns_around_the_table_are_skipped():
    """A merged title row, blank rows above the header and a blank column left of it are not
    the table: the header is found below them and row numbers stay the sheet's own."""
    content = xlsx({"Plan": [
        [Title("Årsplan 2026", width=4)],
        [],
        HEADER,
        ["Möte", date(2026, 3, 2), None, "Ekonomi"],
        [],
        ["Fest", date(2026, 6, 5), None, "Personal"],
    ]}, origin=(1, 1))
    source = read(content)
    assert source.columns.headers == tuple(HEADER)
    assert source.layout.header_row == 4
    assert activities(source) == [(5, "Möte", date(2026, 3, 2), date(2026, 3, 2), "Ekonomi"),
                                  (7, "Fest", date(2026, 6, 5), date(2026, 6, 5), "Personal")]
    assert source.total_rows == 2


def test_a_rejected_row_keeps_its_cells_as_text_and_its_sheet_row_number():
    """A row that breaks a rule is rejected as a CSV row would be, with its cells as text
    (dates ISO, whole numbers without `.0`) and its row number in the sheet."""
    content = xlsx({"Plan": [HEADER, ["Möte", date(2026, 3, 2), date(2026, 3, 1), 42.0],
                             ["", date(2026, 3, 2), None, "X"]]})
    rows = list(read(content))
    assert rows[0] == Rejection(row_number=2, column="Slutdatum", reason="Slutdatum före startdatum",
                                values=("Möte", "2026-03-02", "2026-03-01", "42"))
    assert isinstance(rows[1], Rejection) and rows[1].row_number == 3 and rows[1].column == "Aktivitet"


def test_dates_typed_as_text_are_decided_per_column_as_in_a_csv():
    """D/M/Y dates a sheet holds as text take the CSV reader's rules: a column whose every
    value reads both ways is read day-first with a date_order_assumed warning, and the
    request's date_order overrides it (API.md, "Imports")."""
    content = xlsx({"Plan": [["Aktivitet", "Datum"], ["Möte", "03/04/2026"], ["Fest", "05/06/2026"]]})
    source = read(content)
    assert [(r.name, r.start) for r in source] == [("Möte", date(2026, 4, 3)), ("Fest", date(2026, 6, 5))]
    assert [(w.code, w.details["order"], w.details["ambiguous"]) for w in source.warnings] == [
        ("date_order_assumed", "day_first", 2)]
    chosen = open_source(kinds.XLSX, content, "plan.xlsx", None, date_order="month_first")
    assert [(r.name, r.start) for r in chosen] == [("Möte", date(2026, 3, 4)), ("Fest", date(2026, 5, 6))]
    assert chosen.warnings == () and chosen.date_order_source == "request"


def test_cells_become_text_as_a_person_sees_them():
    """Whole floats lose `.0`, others keep up to 15 significant digits, date-times keep their
    day, booleans read as Swedish Excel writes them."""
    assert [text_of(v) for v in (4.0, 1.5, 0.1 + 0.2, 7, True, False, datetime(2026, 3, 2, 23, 59))] == [
        "4", "1.5", "0.3", "7", "SANT", "FALSKT", "2026-03-02"]


def test_a_workbook_without_a_header_or_data_is_unreadable_like_a_csv():
    """The CSV reader's 422s hold for sheets: only empty sheets is empty_file, a header with no
    rows is no_data_rows, dates in the first row are no_header."""
    with pytest.raises(UnreadableFile) as caught:
        read(xlsx({"Tom": [], "Tom2": []}))
    assert caught.value.code == "empty_file"
    with pytest.raises(UnreadableFile) as caught:
        read(xlsx({"Plan": [HEADER]}))
    assert caught.value.code == "no_data_rows"
    with pytest.raises(UnreadableFile) as caught:
        read(xlsx({"Plan": [["Möte", date(2026, 3, 2)], ["Fest", date(2026, 4, 2)]]}))
    assert caught.value.code == "no_header"


def test_an_encrypted_workbook_is_refused_as_encrypted():
    """An encrypted xlsx is an OLE2 compound file holding EncryptionInfo and EncryptedPackage
    (MS-OFFCRYPTO 2.3.4, MS-CFB 2.6): recognised as such and refused with workbook_encrypted,
    whose message tells how to save it without a password."""
    content = ENCRYPTED_FIXTURE.read_bytes()
    assert content.startswith(kinds.CFB_MAGIC)
    assert kinds.media_type_of(content) == kinds.XLSX
    with pytest.raises(UnreadableFile) as caught:
        read(content)
    assert caught.value.code == "workbook_encrypted"
    assert "lösenord" in caught.value.message


def test_a_damaged_workbook_is_refused_with_a_message_a_person_understands():
    """A truncated xlsx (no ZIP directory) and an xlsx whose sheet XML breaks off are both
    workbook_damaged, naming the kind of file and what to do."""
    whole = xlsx({"Plan": [HEADER, ["Möte", date(2026, 3, 2), None, "Ekonomi"]]})
    for content in (whole[: len(whole) // 2], damaged_sheet_xlsx()):
        assert kinds.media_type_of(content) == kinds.XLSX
        with pytest.raises(UnreadableFile) as caught:
            read(content)
        assert caught.value.code == "workbook_damaged"
        assert "xlsx" in caught.value.message and "spara den på nytt" in caught.value.message


def test_a_zip_bomb_is_refused_from_its_directory_quickly_and_in_little_memory():
    """A package whose sheet declares 512 MB of XML at ~1000:1 is refused (workbook_too_large)
    from the ZIP directory's declared sizes, before calamine inflates a byte: in well under a
    second and a few MB of Python memory."""
    content = zip_bomb(512 << 20)
    assert len(content) < 1 << 20
    tracemalloc.start()
    began = time.perf_counter()
    try:
        with pytest.raises(UnreadableFile) as caught:
            read(content)
        elapsed = time.perf_counter() - began
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert caught.value.code == "workbook_too_large"
    assert caught.value.details["member"] == "xl/worksheets/sheet1.xml"
    assert elapsed < 0.5 and peak < 8 << 20
