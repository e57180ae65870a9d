"""The API with a real worker in-process: imports complete, fail, report rejected rows and retry."""

from __future__ import annotations

import csv
import io

from tests.acceptance.api.support import until_ended


async def test_import_completes_and_items_are_readable(api_factory):
    """A submitted CSV is imported by the worker: the job completes with counts and the items are listed."""
    api = await api_factory(with_worker=True)
    wheel = await api.wheel()
    body = "Aktivitet;Startdatum;Slutdatum;Område\nMöte;2026-03-01;2026-03-02;Ekonomi\n" \
           "Jul;2026-12-20;2027-01-06;Ekonomi\nTrasig;inte ett datum;2026-01-01;Ekonomi\n"
    resp = await api.submit_csv(wheel, body.encode())
    assert resp.status == 202
    job = await until_ended(api, (await resp.json())["id"])
    assert job["status"] == "completed" and job["progress"] == 100
    assert job["rejected_rows"] == 1 and job["counts"]["items"] == 3 and job["counts"]["pages"] == 2
    items = (await (await api.call("GET", f"/api/wheels/{wheel}/items", params={"year": "2027"})).json())["items"]
    assert [(i["name"], i["start_date"], i["end_date"], i["ring"]) for i in items] == [
        ("Jul", "2027-01-01", "2027-01-06", "Ekonomi")]
    counts = (await (await api.call("GET", f"/api/wheels/{wheel}")).json())["counts"]
    assert counts["items"] == 3
    raw = await (await api.call("GET", f"/api/imports/{job['id']}/errors.csv")).read()
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == ["Rad", "Aktivitet", "Startdatum", "Slutdatum", "Område", "Orsak"]
    assert len(rows) == 2 and rows[1][:5] == ["4", "Trasig", "inte ett datum", "2026-01-01", "Ekonomi"]


async def test_a_corrected_errors_csv_imports_its_rows(api_factory):
    """errors.csv, corrected as a person would in a spreadsheet (the bad cells fixed, Rad and
    Orsak left in place), imports its rows again: each becomes an item, none is rejected, and a
    neutralised formula-like name comes back as it was."""
    api = await api_factory(with_worker=True)
    wheel = await api.wheel()
    body = ("Aktivitet;Startdatum;Slutdatum;Område;Beskrivning\nMöte;2026-03-01;2026-03-02;Ekonomi;x\n"
            "-Avstämning;31/02/2026;;Ekonomi;+5 %\nPlanering;aldrig;2026-04-01;Ledning;\n")
    first = await until_ended(api, (await (await api.submit_csv(wheel, body.encode())).json())["id"])
    assert first["status"] == "completed" and first["rejected_rows"] == 2
    text = (await (await api.call("GET", f"/api/imports/{first['id']}/errors.csv")).read()).decode("utf-8-sig")
    corrected = text.replace("31/02/2026", "28/02/2026").replace(";aldrig;", ";2026-03-30;")
    resp = await api.submit_csv(wheel, corrected.encode("utf-8-sig"))
    assert resp.status == 202, await resp.text()
    second = await until_ended(api, (await resp.json())["id"])
    assert second["status"] == "completed" and second["rejected_rows"] == 0 and second["counts"]["items"] == 2
    items = (await (await api.call("GET", f"/api/wheels/{wheel}/items")).json())["items"]
    by_name = {i["name"]: i for i in items}
    assert set(by_name) == {"Möte", "-Avstämning", "Planering"}
    assert by_name["-Avstämning"]["start_date"] == "2026-02-28" and by_name["-Avstämning"]["description"] == "+5 %"
    assert by_name["Planering"]["ring"] == "Ledning"


async def test_failed_import_can_be_retried(api_factory):
    """A file whose every row is rejected fails (no_valid_rows); its retry is a new job from the stored file."""
    api = await api_factory(with_worker=True)
    wheel = await api.wheel()
    body = b"Aktivitet;Startdatum\n;2026-01-01\nUtan datum;aldrig\n"
    resp = await api.submit_csv(wheel, body)
    assert resp.status == 202, await resp.text()
    failed = await until_ended(api, (await resp.json())["id"])
    assert failed["status"] == "failed" and failed["error"]["code"] == "no_valid_rows"
    resp = await api.call("POST", f"/api/imports/{failed['id']}/retry")
    assert resp.status == 202
    retried = await until_ended(api, (await resp.json())["id"])
    assert retried["retry_of"] == failed["id"] and retried["status"] == "failed"
    assert (await api.call("POST", f"/api/imports/{retried['id']}/cancel")).status == 409


async def test_errors_csv_keeps_a_semicolon_formula_in_one_neutralised_cell(api_factory):
    """A value like `x;=HYPERLINK(...)` (and a header that is a formula) reaches errors.csv so
    that Swedish Excel, splitting at `;` and honouring quotes, sees it as one cell holding the
    value as it was, and no cell that starts a formula."""
    api = await api_factory(with_worker=True)
    wheel = await api.wheel()
    evil = 'x;=HYPERLINK("http://evil")'
    header = '=HYPERLINK("http://evil/h")'
    body = ('Aktivitet,Startdatum,Slutdatum,Område,"=HYPERLINK(""http://evil/h"")"\n'
            "Möte,2026-03-01,2026-03-02,Ekonomi,ok\n"
            '"x;=HYPERLINK(""http://evil"")",aldrig,2026-01-01,Ekonomi,"a;@SUM(1);-2"\n')
    job = await until_ended(api, (await (await api.submit_csv(wheel, body.encode())).json())["id"])
    assert job["status"] == "completed" and job["rejected_rows"] == 1, job
    resp = await api.call("GET", f"/api/imports/{job['id']}/errors.csv")
    assert resp.status == 200
    text = (await resp.read()).decode("utf-8-sig")
    # What Swedish Excel does with a .csv: `;` separates cells, "..." quotes one, "" is a quote.
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=";", quotechar='"', doublequote=True))
    assert rows[0] == ["Rad", "Aktivitet", "Startdatum", "Slutdatum", "Område", "'" + header, "Orsak"]
    assert len(rows) == 2 and len(rows[1]) == len(rows[0])
    assert rows[1][:6] == ["3", evil, "aldrig", "2026-01-01", "Ekonomi", "a;@SUM(1);-2"]
    for row in rows:
        assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in row), row
