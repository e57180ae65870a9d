"""Workbooks through the HTTP API: every body form takes xlsx, xls and ods by their content, the
worker imports their date cells as dates, and an unreadable or malicious workbook is a 422 before
any job exists, without harm to the server."""

from __future__ import annotations

import time
from datetime import date

import aiohttp
import psycopg

from importer.read import spreadsheet_kinds as kinds
from tests.acceptance.api.support import error_of, until_ended
from tests.data.workbooks import (
    ENCRYPTED_FIXTURE,
    XLS_FIXTURE,
    Title,
    damaged_sheet_xlsx,
    ods,
    sparse_xlsx,
    xlsx,
    zip_bomb,
)

HEADER = ["Aktivitet", "Startdatum", "Slutdatum", "Område"]
PLAN = [HEADER, ["Möte", date(2026, 3, 2), date(2026, 3, 12), "Ekonomi"],
        ["Jul", date(2026, 12, 20), date(2027, 1, 6), "Ekonomi"]]


async def _items(api, wheel: str, year: int) -> list[tuple]:
    body = await (await api.call("GET", f"/api/wheels/{wheel}/items", params={"year": str(year)})).json()
    return [(i["name"], i["start_date"], i["end_date"], i["ring"]) for i in body["items"]]


def _multipart(content: bytes, file_name: str, content_type: str, **fields: str) -> aiohttp.FormData:
    form = aiohttp.FormData()
    for name, value in fields.items():
        form.add_field(name, value)
    form.add_field("file", content, filename=file_name, content_type=content_type)
    return form


async def _raw(api, wheel: str, content: bytes, content_type: str, **params: str):
    return await api.call("POST", f"/api/wheels/{wheel}/imports", data=content,
                          headers={"Content-Type": content_type}, params=params)


def _stored_media_type(db_url: str, job_id: str) -> str:
    with psycopg.connect(db_url) as conn:
        row = conn.execute("SELECT f.media_type FROM import_jobs j JOIN import_files f ON f.id = j.file_id"
                           " WHERE j.id = %s", (job_id,)).fetchone()
    assert row is not None
    return str(row[0])


async def test_an_xlsx_named_csv_in_a_multipart_form_imports_its_date_cells(api_factory, db_url):
    """A multipart `file` part holding xlsx bytes, named `.csv` and declared text/csv, is read as
    the workbook it is (stored as xlsx): its date cells become the items' dates, the year split
    included, and a title row above the header is skipped."""
    api = await api_factory(with_worker=True)
    wheel = await api.wheel()
    content = xlsx({"Plan": [[Title("Årsplan 2026", width=4)], *PLAN]})
    resp = await api.call("POST", f"/api/wheels/{wheel}/imports",
                          data=_multipart(content, "aktiviteter.csv", "text/csv"))
    assert resp.status == 202, await resp.text()
    job = await until_ended(api, (await resp.json())["id"])
    assert job["status"] == "completed", job
    assert job["counts"]["items"] == 3 and job["rejected_rows"] == 0 and job["file_name"] == "aktiviteter.csv"
    assert _stored_media_type(db_url, job["id"]) == kinds.XLSX
    assert await _items(api, wheel, 2026) == [("Möte", "2026-03-02", "2026-03-12", "Ekonomi"),
                                              ("Jul", "2026-12-20", "2026-12-31", "Ekonomi")]
    assert await _items(api, wheel, 2027) == [("Jul", "2027-01-01", "2027-01-06", "Ekonomi")]


async def test_a_real_xls_as_a_raw_body_imports_its_date_cells(api_factory, db_url):
    """A raw application/vnd.ms-excel body (a BIFF8 file written by xlwt) imports with its
    date cells as dates, its hidden sheet left alone (no other_sheets); its Antal column, which
    no field takes, is warned of as unmapped."""
    api = await api_factory(with_worker=True)
    wheel = await api.wheel()
    resp = await _raw(api, wheel, XLS_FIXTURE.read_bytes(), kinds.XLS, file_name="aktiviteter.xls")
    assert resp.status == 202, await resp.text()
    job = await until_ended(api, (await resp.json())["id"])
    assert job["status"] == "completed" and job["counts"]["items"] == 3
    assert [(w["code"], w["details"]) for w in job["warnings"]] == [("unmapped_column", {"columns": ["Antal"]})]
    assert _stored_media_type(db_url, job["id"]) == kinds.XLS
    assert await _items(api, wheel, 2026) == [
        ("Budgetmöte", "2026-03-02", "2026-03-03", "Ekonomi"),
        ("Årsredovisning", "2026-04-15", "2026-05-30", "Ekonomi"),
        ("Vårfest", "2026-06-05", "2026-06-05", "Personal")]


async def test_an_ods_sent_as_text_plain_imports_and_names_its_other_sheets(api_factory, db_url):
    """A raw body declared text/plain holding an ods is read as ods (the content decides): the
    first visible table is imported and the job warns (other_sheets) of the other one with data."""
    api = await api_factory(with_worker=True)
    wheel = await api.wheel()
    content = ods({"Plan": PLAN, "Budget": PLAN, "Dolt": PLAN}, hidden={"Dolt"})
    resp = await _raw(api, wheel, content, "text/plain")
    assert resp.status == 202, await resp.text()
    job = await until_ended(api, (await resp.json())["id"])
    assert job["status"] == "completed" and job["counts"]["items"] == 3
    assert _stored_media_type(db_url, job["id"]) == kinds.ODS
    assert [(w["code"], w["details"]) for w in job["warnings"]] == [
        ("other_sheets", {"sheet": "Plan", "sheets": ["Budget"]})]
    assert "Budget" in job["warnings"][0]["message"]
    assert (await _items(api, wheel, 2026))[0] == ("Möte", "2026-03-02", "2026-03-12", "Ekonomi")


async def test_the_sheet_a_request_names_is_the_one_imported(api_factory):
    """`sheet` (a query parameter of a raw body, or a multipart part) is kept with the job and
    is the sheet its worker imports; the first visible sheet with data is then an other_sheets."""
    api = await api_factory(with_worker=True)
    content = xlsx({"Plan": PLAN, "Budget": [HEADER, ["Bokslut", date(2026, 5, 4), None, "Ekonomi"]]})
    for send in ("query", "part"):
        wheel = await api.wheel()
        if send == "query":
            resp = await _raw(api, wheel, content, kinds.XLSX, sheet="Budget")
        else:
            resp = await api.call("POST", f"/api/wheels/{wheel}/imports",
                                  data=_multipart(content, "plan.xlsx", kinds.XLSX, sheet="budget"))
        assert resp.status == 202, await resp.text()
        job = await until_ended(api, (await resp.json())["id"])
        assert job["status"] == "completed" and job["counts"]["items"] == 1, job
        assert await _items(api, wheel, 2026) == [("Bokslut", "2026-05-04", "2026-05-04", "Ekonomi")]
        assert [(w["code"], w["details"]) for w in job["warnings"]] == [
            ("other_sheets", {"sheet": "Budget", "sheets": ["Plan"]})]


async def test_a_sheet_the_workbook_lacks_is_a_400_listing_its_sheets(api):
    """`sheet` naming no sheet is 400 bad_sheet with the workbook's visible sheets, as a query
    parameter of a raw body and as a multipart part alike; no job is created."""
    wheel = await api.wheel()
    content = xlsx({"Plan": PLAN, "Budget": PLAN})
    for resp in (await _raw(api, wheel, content, kinds.XLSX, sheet="Blad9"),
                 await api.call("POST", f"/api/wheels/{wheel}/imports",
                                data=_multipart(content, "plan.xlsx", kinds.XLSX, sheet="Blad9"))):
        assert resp.status == 400
        error = error_of(await resp.json())
        assert error["code"] == "bad_sheet" and error["details"]["sheets"] == ["Plan", "Budget"]
    jobs = (await (await api.call("GET", "/api/imports")).json())["jobs"]
    assert jobs == []


async def test_unreadable_workbooks_are_422_at_once(api):
    """An encrypted xlsx (MS-OFFCRYPTO) is 422 workbook_encrypted, a workbook whose sheet
    breaks off and a truncated one are 422 workbook_damaged, each with a message that says
    what to do; a sheet with a header and no rows is no_data_rows, a workbook of empty sheets
    empty_file, as for a CSV; no job is created."""
    wheel = await api.wheel()
    whole = xlsx({"Plan": PLAN})
    cases = [(ENCRYPTED_FIXTURE.read_bytes(), "workbook_encrypted", "lösenord"),
             (damaged_sheet_xlsx(), "workbook_damaged", "spara den på nytt"),
             (whole[: len(whole) // 2], "workbook_damaged", "spara den på nytt"),
             (xlsx({"Plan": [HEADER]}), "no_data_rows", "inga datarader"),
             (ods({"Tom": [], "Tom2": [[None]]}), "empty_file", "Tom, Tom2")]
    for content, code, advice in cases:
        resp = await api.call("POST", f"/api/wheels/{wheel}/imports",
                              data=_multipart(content, "plan.xlsx", "application/octet-stream"))
        assert resp.status == 422, await resp.text()
        error = error_of(await resp.json())
        assert error["code"] == code and advice in error["message"]
    assert (await (await api.call("GET", "/api/imports")).json())["jobs"] == []


async def test_a_zip_bomb_is_422_quickly(api):
    """An xlsx whose sheet declares 512 MB of XML at ~1000:1 is 422 workbook_too_large within a
    second, refused from the ZIP directory before anything is inflated."""
    wheel = await api.wheel()
    content = zip_bomb(512 << 20)
    began = time.perf_counter()
    resp = await _raw(api, wheel, content, kinds.XLSX)
    assert resp.status == 422
    assert time.perf_counter() - began < 1.0
    error = error_of(await resp.json())
    assert error["code"] == "workbook_too_large" and error["details"]["member"] == "xl/worksheets/sheet1.xml"


async def test_a_sparse_range_bomb_is_422_and_the_server_lives_on(api):
    """A few KB whose sheet spans A1:XFD1048576 (calamine would allocate 17 billion cells and
    abort its process) is 422 workbook_too_large from the limited child process, also as a hidden
    sheet behind a good one, and the server answers the next request."""
    wheel = await api.wheel()
    resp = await _raw(api, wheel, sparse_xlsx(), kinds.XLSX)
    assert resp.status == 422
    assert error_of(await resp.json())["code"] == "workbook_too_large"
    # Hidden behind a good sheet it is refused too: a later request could name it.
    resp = await _raw(api, wheel, sparse_xlsx(good_sheet_first=True), kinds.XLSX)
    assert resp.status == 422
    assert error_of(await resp.json())["code"] == "workbook_too_large"
    resp = await _raw(api, wheel, xlsx({"Plan": PLAN}), kinds.XLSX)
    assert resp.status == 202, await resp.text()
