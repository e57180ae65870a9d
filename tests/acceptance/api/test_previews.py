"""Review before import over real HTTP: a preview plans a file without writing to the wheel, can be
changed, and imports exactly what it showed; another user's or an expired preview is 404."""

from __future__ import annotations

import psycopg

from tests.acceptance.api.support import error_of, until_ended

PREVIEW_KEYS = {"id", "wheel_id", "file_name", "size_bytes", "format", "columns", "mapping", "date_order",
                "date_order_source", "counts", "items", "rejected", "warnings", "sampled", "expires_at", "links"}
FILE = ("Aktivitet;Startdatum;Slutdatum;Område;Kategori;Ansvar\n"
        "Budgetmöte;2026-02-03;2026-02-03;Ekonomi;Möten;Eva\n"
        "Jul;2026-12-20;2027-01-06;Ekonomi;Ledigt;Bo\n"
        "Trasig;inte ett datum;2026-01-01;Ekonomi;Möten;Eva\n").encode()


async def _preview(api, wheel: str, body: bytes = FILE, **params: str):
    return await api.call("POST", f"/api/wheels/{wheel}/previews", data=body, params=params,
                          headers={"Content-Type": "text/csv"})


async def test_a_preview_shows_what_the_import_would_do_and_writes_nothing(api):
    """201 with the preview object: format, columns with their fields, counts with the year split,
    the first items and rejections, Ansvar (no field's header) warned of as going to the
    description; the wheel stays empty."""
    wheel = await api.wheel()
    resp = await _preview(api, wheel, file_name="plan.csv")
    assert resp.status == 201, await resp.text()
    preview = await resp.json()
    assert set(preview) == PREVIEW_KEYS and resp.headers["Location"] == preview["links"]["self"]
    assert preview["format"]["kind"] == "csv" and preview["format"]["delimiter"] == ";"
    assert preview["format"]["header_row"] == 1 and preview["file_name"] == "plan.csv"
    fields = {c["header"]: c["field"] for c in preview["columns"]}
    assert fields == {"Aktivitet": "name", "Startdatum": "start", "Slutdatum": "end", "Område": "ring",
                      "Kategori": "group", "Ansvar": None}
    assert "label" not in preview["mapping"]
    unmapped = [w for w in preview["warnings"] if w["code"] == "unmapped_column"]
    assert unmapped and unmapped[0]["details"] == {"columns": ["Ansvar"]} and "Ansvar" in unmapped[0]["message"]
    assert [c["samples"] for c in preview["columns"] if c["header"] == "Ansvar"] == [["Eva", "Bo", "Eva"]]
    counts = preview["counts"]
    assert (counts["rows"], counts["items"], counts["rejected"], counts["split_items"]) == (3, 3, 1, 1)
    assert counts["rings"] == {"new": 1, "existing": 0} and counts["pages"] == {"new": 2, "existing": 0}
    assert [(i["name"], i["page_year"]) for i in preview["items"]] == [("Budgetmöte", 2026), ("Jul", 2026),
                                                                        ("Jul", 2027)]
    assert preview["rejected"][0]["row"] == 4 and preview["rejected"][0]["column"] == "Startdatum"
    assert preview["sampled"] is False
    wheel_counts = (await (await api.call("GET", f"/api/wheels/{wheel}")).json())["counts"]
    assert wheel_counts == {"rings": 0, "groups": 0, "labels": 0, "pages": 0, "items": 0}
    again = await api.call("GET", preview["links"]["self"])
    assert again.status == 200 and (await again.json()) == preview


async def test_another_users_preview_and_an_expired_one_are_not_found(api, db_url):
    """A preview is its user's only, and gone a day after its last change (404 either way)."""
    wheel = await api.wheel()
    preview = await (await _preview(api, wheel)).json()
    other = api.as_other()
    for method, body in (("GET", None), ("PATCH", {"date_order": "day_first"})):
        resp = await other.call(method, preview["links"]["self"], json=body)
        assert resp.status == 404 and error_of(await resp.json())["code"] == "not_found"
    assert (await other.call("POST", preview["links"]["imports"], json={})).status == 404
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("UPDATE import_previews SET updated_at = now() - interval '2 days',"
                     " expires_at = now() - interval '1 day' WHERE id = %s", (preview["id"],))
    assert (await api.call("GET", preview["links"]["self"])).status == 404


async def test_a_change_of_mapping_is_planned_again(api):
    """PATCH with a mapping that makes Ansvar the label recomputes the preview: two new labels, no
    unmapped column; a later PATCH of another field keeps that mapping."""
    wheel = await api.wheel()
    preview = await (await _preview(api, wheel)).json()
    resp = await api.call("PATCH", preview["links"]["self"], json={"mapping": {"label": "Ansvar"}})
    assert resp.status == 200, await resp.text()
    changed = await resp.json()
    assert {c["header"]: c["field"] for c in changed["columns"]}["Ansvar"] == "label"
    assert changed["mapping"]["label"] == "Ansvar" and changed["counts"]["labels"] == {"new": 2, "existing": 0}
    assert not [w for w in changed["warnings"] if w["code"] == "unmapped_column"]
    assert changed["expires_at"] >= preview["expires_at"]
    kept = await (await api.call("PATCH", preview["links"]["self"], json={"date_order": "day_first"})).json()
    assert kept["mapping"]["label"] == "Ansvar"
    resp = await api.call("PATCH", preview["links"]["self"], json={"date_order": "yesterday"})
    assert resp.status == 400 and error_of(await resp.json())["code"] == "bad_date_order"


async def test_an_import_from_a_preview_gives_its_counts_and_a_second_one_skips_duplicates(api_factory):
    """Importing the previewed file creates exactly the items the preview counted, without a
    re-upload; a preview of the same file then counts them as duplicates, and its import leaves
    the wheel unchanged."""
    api = await api_factory(with_worker=True)
    wheel = await api.wheel()
    preview = await (await _preview(api, wheel)).json()
    resp = await api.call("POST", preview["links"]["imports"], json={"mode": "append"})
    assert resp.status == 202, await resp.text()
    job = await until_ended(api, (await resp.json())["id"])
    assert job["status"] == "completed"
    assert (job["counts"]["items"], job["rejected_rows"]) == (preview["counts"]["items"], preview["counts"]["rejected"])
    second = await (await _preview(api, wheel)).json()
    assert second["counts"]["skipped_duplicates"] == 3 and second["counts"]["items"] == 0
    assert second["counts"]["rings"] == {"new": 0, "existing": 1}
    assert [w["code"] for w in second["warnings"] if w["code"] == "duplicate_items"] == ["duplicate_items"]
    job2 = await until_ended(api, (await (await api.call("POST", second["links"]["imports"], json={})).json())["id"])
    assert job2["status"] == "completed" and job2["counts"]["items"] == 0
    assert job2["counts"]["skipped_duplicates"] == 3
    wheel_counts = (await (await api.call("GET", f"/api/wheels/{wheel}")).json())["counts"]
    assert wheel_counts["items"] == 3


async def test_a_file_that_cannot_be_an_import_is_refused_and_not_kept(api, db_url):
    """A CSV without a usable column is a 422 like an import's, and its upload is not stored."""
    wheel = await api.wheel()
    with psycopg.connect(db_url) as conn:
        before = conn.execute("SELECT count(*) FROM import_files").fetchone()[0]
    resp = await _preview(api, wheel, b"Foo;Bar\n1;2\n")
    assert resp.status == 422 and error_of(await resp.json())["code"] in ("no_header", "no_usable_column")
    resp = await _preview(api, "00000000-0000-4000-8000-000000000000")
    assert resp.status == 404
    with psycopg.connect(db_url) as conn:
        assert conn.execute("SELECT count(*) FROM import_files").fetchone()[0] == before


async def test_a_changed_preview_imports_with_its_changes(api_factory):
    """Preview, then PATCH the mapping (Ansvar becomes the label) and the date order, then import:
    the job's counts are exactly the changed preview's, and the items carry the mapped labels and
    the dates read month-first."""
    api = await api_factory(with_worker=True)
    wheel = await api.wheel()
    body = ("Aktivitet;Start;Område;Ansvar\nMöte;03/04/2026;Ekonomi;Eva\nKurs;05/06/2026;Ekonomi;Bo\n"
            "Fel;aldrig;Ekonomi;Eva\n").encode()
    preview = await (await _preview(api, wheel, body)).json()
    assert preview["date_order"] == "day_first" and preview["date_order_source"] in ("default", "data", "layout")
    changed = await (await api.call("PATCH", preview["links"]["self"],
                                    json={"mapping": {"label": "Ansvar"}, "date_order": "month_first"})).json()
    assert changed["date_order"] == "month_first" and changed["date_order_source"] == "request"
    assert [(i["name"], i["start_date"], i["label"]) for i in changed["items"]] == [
        ("Möte", "2026-03-04", "Eva"), ("Kurs", "2026-05-06", "Bo")]
    resp = await api.call("POST", changed["links"]["imports"], json={"notify": False})
    assert resp.status == 202, await resp.text()
    job = await until_ended(api, (await resp.json())["id"])
    assert job["status"] == "completed"
    assert (job["counts"]["items"], job["counts"]["labels"], job["rejected_rows"]) == (
        changed["counts"]["items"], changed["counts"]["labels"]["new"], changed["counts"]["rejected"])
    items = (await (await api.call("GET", f"/api/wheels/{wheel}/items")).json())["items"]
    assert [(i["name"], i["start_date"], i["label"]) for i in items] == [
        ("Möte", "2026-03-04", "Eva"), ("Kurs", "2026-05-06", "Bo")]


async def test_files_that_should_warn_do(api):
    """Every activity on one date gives same_dates; an item over 300 days gives long_items; a
    column no field takes gives unmapped_column; each with a message in Swedish."""
    wheel = await api.wheel()
    same = b"Aktivitet;Datum;Kostnad\nA;2026-05-01;100\nB;2026-05-01;200\nC;2026-05-01;300\n"
    codes = {w["code"]: w for w in (await (await _preview(api, wheel, same)).json())["warnings"]}
    assert set(codes) == {"same_dates", "unmapped_column"}
    assert codes["same_dates"]["details"] == {"date": "2026-05-01"} and "2026-05-01" in codes["same_dates"]["message"]
    assert codes["unmapped_column"]["details"] == {"columns": ["Kostnad"]}
    long = "Aktivitet;Start;Slut\nProjekt;2026-01-01;2026-12-31\nMöte;2026-02-01;2026-02-01\n".encode()
    codes = {w["code"]: w for w in (await (await _preview(api, wheel, long)).json())["warnings"]}
    assert set(codes) == {"long_items"} and codes["long_items"]["details"] == {"count": 1, "days": 300}
    assert codes["long_items"]["message"] == "1 aktiviteter är längre än 300 dagar."


async def test_a_preview_of_another_sheet_imports_that_sheet(api_factory):
    """A preview of a workbook's second sheet (sheet=Budget) imports that sheet, not the first."""
    from datetime import date

    from tests.data.workbooks import xlsx

    api = await api_factory(with_worker=True)
    wheel = await api.wheel()
    book = xlsx({"Plan": [["Aktivitet", "Start"], ["Möte", date(2026, 3, 2)]],
                 "Budget": [["Aktivitet", "Start"], ["Bokslut", date(2026, 1, 15)], ["Revision", date(2026, 2, 1)]]})
    resp = await api.call("POST", f"/api/wheels/{wheel}/previews", data=book, params={"sheet": "Budget"},
                          headers={"Content-Type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"})
    assert resp.status == 201, await resp.text()
    preview = await resp.json()
    assert preview["format"]["sheet"] == "Budget" and [i["name"] for i in preview["items"]] == ["Bokslut", "Revision"]
    job = await until_ended(api, (await (await api.call("POST", preview["links"]["imports"], json={})).json())["id"])
    assert job["status"] == "completed" and job["counts"]["items"] == 2
    items = (await (await api.call("GET", f"/api/wheels/{wheel}/items")).json())["items"]
    assert [i["name"] for i in items] == ["Bokslut", "Revision"]
