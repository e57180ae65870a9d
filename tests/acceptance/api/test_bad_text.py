"""Text Postgres cannot store (NUL, lone surrogates) over real HTTP (API.md, "Errors"): in a
title, file name, mapping or header it is a 400; in a structured item it rejects that item, not
the import. And a JSON body nested deeper than the parser can go is a 400."""

from __future__ import annotations

import asyncio
import copy
import csv
import io
import json

import pytest

from importer.read import spreadsheet_kinds as kinds
from tests.acceptance.api.support import error_of, until_ended
from tests.data.workbooks import xlsx

STRUCTURED = {
    "importMode": "append", "fileName": "plan.json",
    "structure": {"rings": [{"id": "r1", "name": "Ekonomi", "type": "inner"}],
                  "activityGroups": [{"id": "g1", "name": "Möten", "color": "#3366CC"}], "labels": []},
    "pages": [{"year": 2026, "items": [
        {"name": "Budget", "startDate": "2026-02-01", "endDate": "2026-02-03", "ringId": "r1", "activityId": "g1"},
        {"name": "Mö\x00te", "startDate": "2026-03-01", "endDate": "2026-03-02", "ringId": "r1", "activityId": "g1"},
        {"name": "Plan", "startDate": "2026-04-01", "endDate": "2026-04-02", "ringId": "r1", "activityId": "g1",
         "description": "trasig \ud800 text"},
        {"name": "Uppföljning", "startDate": "2026-05-01\x00", "ringId": "r1", "activityId": "g1"},
    ]}],
}
# Lone surrogates, as a JSON client writes them: escaped (json.dumps does, with ensure_ascii).
BAD_TEXTS = ["Plan\x00 2026", "Plan \ud800", "\udfff"]
BAD_IDS = ["nul", "high-surrogate", "low-surrogate"]


def as_json(value) -> bytes:
    return json.dumps(value).encode()


async def test_one_bad_item_is_rejected_not_the_import(api_factory):
    """A structured import with a NUL in one item's name, a lone surrogate in another's
    description and a NUL in a third's date completes: those items are rejected rows, listed in
    errors.csv with a reason, and the good item is imported."""
    api = await api_factory(with_worker=True)
    wheel = await api.wheel()
    resp = await api.call("POST", f"/api/wheels/{wheel}/imports", data=as_json(STRUCTURED),
                          headers={"Content-Type": "application/json"})
    assert resp.status == 202, await resp.text()
    job = await until_ended(api, (await resp.json())["id"])
    assert (job["status"], job["error"]) == ("completed", None), job
    assert job["rejected_rows"] == 3 and job["counts"]["items"] == 1
    raw = await (await api.call("GET", f"/api/imports/{job['id']}/errors.csv")).read()
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert [r[0] for r in rows[1:]] == ["2", "3", "4"]
    assert [r[1] for r in rows[1:]] == ["Möte", "Plan", "Uppföljning"]  # NUL dropped for the file
    assert "trasig \ufffd text" in rows[2]
    assert all("NUL" in r[-1] for r in rows[1:]), rows


@pytest.mark.parametrize("title", BAD_TEXTS, ids=BAD_IDS)
async def test_a_wheel_title_that_cannot_be_stored_is_400(api, pool, title):
    """A wheel title with NUL or a lone surrogate is 400 `bad_request` naming the field, and no wheel is made."""
    resp = await api.call("POST", "/api/wheels", data=as_json({"title": title, "year": 2026}),
                          headers={"Content-Type": "application/json"})
    assert resp.status == 400, await resp.text()
    error = error_of(await resp.json())
    assert (error["code"], error["details"]) == ("bad_request", {"field": "title"})
    async with pool.connection() as conn:
        assert (await (await conn.execute("SELECT count(*) AS n FROM year_wheels")).fetchone())["n"] == 0


async def test_a_file_name_with_nul_in_the_query_is_400(api):
    """`file_name=plan%00.csv` on a raw upload is 400 `bad_file_name` (a URL carries no lone surrogate)."""
    wheel = await api.wheel()
    resp = await api.submit_csv(wheel, params={"file_name": "plan\x00.csv"})
    assert resp.status == 400, await resp.text()
    assert error_of(await resp.json())["code"] == "bad_file_name"


@pytest.mark.parametrize("name", BAD_TEXTS, ids=BAD_IDS)
async def test_a_file_name_that_cannot_be_stored_is_400(api, name):
    """A structured body's fileName with NUL or a lone surrogate is 400 `bad_file_name`."""
    wheel = await api.wheel()
    payload = copy.deepcopy(STRUCTURED) | {"fileName": name}
    resp = await api.call("POST", f"/api/wheels/{wheel}/imports", data=as_json(payload),
                          headers={"Content-Type": "application/json"})
    assert resp.status == 400, await resp.text()
    assert error_of(await resp.json())["code"] == "bad_file_name"


async def test_a_structure_name_that_cannot_be_stored_is_400(api):
    """A ring named with a NUL cannot hold items: the structured body is 400 `bad_payload`."""
    wheel = await api.wheel()
    payload = copy.deepcopy(STRUCTURED)
    payload["structure"]["rings"][0]["name"] = "Ekon\x00omi"
    resp = await api.call("POST", f"/api/wheels/{wheel}/imports", data=as_json(payload),
                          headers={"Content-Type": "application/json"})
    assert resp.status == 400, await resp.text()
    error = error_of(await resp.json())
    assert (error["code"], error["details"]) == ("bad_payload", {"field": "structure.rings[0].name"})


async def test_a_mapping_that_cannot_be_stored_is_400(api):
    """A mapping naming a header with NUL (stored as jsonb with the job) is 400 `bad_mapping`."""
    wheel = await api.wheel()
    resp = await api.submit_csv(wheel, params={"mapping": json.dumps({"name": "Aktivitet\x00"})})
    assert resp.status == 400, await resp.text()
    assert error_of(await resp.json())["code"] == "bad_mapping"


async def _raw_request(port: int, request: bytes) -> tuple[int, bytes]:
    """One HTTP/1.1 request written byte for byte (a header aiohttp's client would not send),
    with `Connection: close`: status and body."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        async with asyncio.timeout(30):
            data = await reader.read()
    finally:
        writer.close()
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


@pytest.mark.parametrize("key", ["nyckel-\u00e5\u00e4\u00f6".encode(), b"\xff\xfe-key", b"tab\there"],
                         ids=["utf-8", "not-utf-8", "tab"])
async def test_an_idempotency_key_that_is_not_ascii_is_400(api, key):
    """An Idempotency-Key of bytes that are not visible ASCII (UTF-8 or not) is 400
    `bad_idempotency_key`, not a 500 from storing it."""
    wheel = await api.wheel()
    body = b"Aktivitet,Startdatum\nM\xc3\xb6te,2026-03-01\n"
    request = (f"POST /api/wheels/{wheel}/imports HTTP/1.1\r\nHost: 127.0.0.1\r\n"
               f"Authorization: {api.headers['Authorization']}\r\n"
               f"Content-Type: text/csv\r\nContent-Length: {len(body)}\r\nConnection: close\r\n").encode()
    request += b"Idempotency-Key: " + key + b"\r\n\r\n" + body
    status, answer = await _raw_request(api.client.port, request)
    assert status == 400, answer
    assert error_of(json.loads(answer))["code"] == "bad_idempotency_key"


@pytest.mark.parametrize("depth", [5_000, 30_000])
async def test_a_json_body_nested_too_deep_is_400(api, depth):
    """A small JSON body nested thousands deep (it fits in the 64 KiB limit) is 400, for a wheel
    and for a preview change alike."""
    body = b"[" * depth + b"]" * depth
    resp = await api.call("POST", "/api/wheels", data=body, headers={"Content-Type": "application/json"})
    assert resp.status == 400, await resp.text()
    assert error_of(await resp.json())["code"] == "bad_request"
    resp = await api.call("PATCH", "/api/previews/00000000-0000-4000-8000-000000000000", data=body,
                          headers={"Content-Type": "application/json"})
    assert resp.status in (400, 404), await resp.text()
    error_of(await resp.json())


async def test_a_nul_in_a_workbook_cell_rejects_its_row(api_factory):
    """An xlsx whose text cell holds a NUL (xlsxwriter writes it, calamine reads it back) imports
    its other rows; each such row is a rejection in errors.csv, not a failed import."""
    api = await api_factory(with_worker=True)
    wheel = await api.wheel()
    book = xlsx({"Blad1": [["Aktivitet", "Startdatum", "Beskrivning"], ["Mö\x00te", "2026-03-01", ""],
                           ["Plan", "2026-04-01", "text\x00"], ["Budget", "2026-05-01", "ok"]]})
    resp = await api.call("POST", f"/api/wheels/{wheel}/imports", data=book, params={"file_name": "plan.xlsx"},
                          headers={"Content-Type": kinds.XLSX})
    assert resp.status == 202, await resp.text()
    job = await until_ended(api, (await resp.json())["id"])
    assert (job["status"], job["rejected_rows"], job["counts"]["items"]) == ("completed", 2, 1), job
    raw = await (await api.call("GET", f"/api/imports/{job['id']}/errors.csv")).read()
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert [r[:2] for r in rows[1:]] == [["2", "Möte"], ["3", "Plan"]]


async def test_a_stray_nul_in_a_csv_cell_rejects_its_row(api_factory):
    """A UTF-8 CSV with a NUL byte in one row's name and another's description imports its other
    rows; each NUL row is a rejection in errors.csv (API.md: such text in a cell rejects that
    row), the preview counts them the same way, and the import's counts equal the preview's."""
    api = await api_factory(with_worker=True)
    wheel = await api.wheel()
    # Stray: two NULs among a few kilobytes of text (a file with NULs everywhere is not text).
    good = "".join(f"Möte {n},2026-05-{n % 28 + 1:02d},ok\n" for n in range(100))
    body = ("Aktivitet,Startdatum,Beskrivning\nMö\x00te,2026-03-01,\nPlan,2026-04-01,text\x00\n"
            + good).encode()
    preview = await api.call("POST", f"/api/wheels/{wheel}/previews", data=body,
                             headers={"Content-Type": "text/csv"})
    assert preview.status == 201, await preview.text()
    counts = (await preview.json())["counts"]
    assert (counts["rejected"], counts["items"]) == (2, 100), counts
    resp = await api.submit_csv(wheel, body)
    assert resp.status == 202, await resp.text()
    job = await until_ended(api, (await resp.json())["id"])
    assert (job["status"], job["rejected_rows"], job["counts"]["items"]) == ("completed", 2, 100), job
    raw = await (await api.call("GET", f"/api/imports/{job['id']}/errors.csv")).read()
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert [r[:2] for r in rows[1:]] == [["2", "Möte"], ["3", "Plan"]]  # NUL dropped for the file
    assert all("NUL" in r[-1] for r in rows[1:]), rows
