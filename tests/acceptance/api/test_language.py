"""The language of messages over real HTTP (API.md, "Language"; RFC 9110 §12.5.4): every error's
`message` and a preview's warnings and rejection reasons are Swedish by default and English when
`Accept-Language` prefers `en`; `code`s never change."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from importer.messages import render_warning
from tests.acceptance.api.support import error_of, until_ended

ENGLISH = {"Accept-Language": "en-GB,en;q=0.9,sv;q=0.5"}
SWEDISH = {"Accept-Language": "sv-SE,sv;q=0.9,en;q=0.8"}
FILE = ("Aktivitet;Startdatum;Slutdatum;Ansvar\n"
        "Budgetmöte;2026-02-03;2026-02-03;Eva\n"
        ";2026-03-01;2026-03-02;Bo\n").encode()


async def _error(resp) -> tuple[int, str, str]:
    body = error_of(await resp.json())
    return resp.status, body["code"], body["message"]


async def test_a_429_is_swedish_by_default_and_english_when_asked(api_factory):
    """The too_many_active_jobs 429 reads "Du har redan ..." without Accept-Language and with `sv`,
    and "You already have ..." with `en`; same code and Retry-After."""
    api = await api_factory(IMPORTER_MAX_ACTIVE_JOBS="1")
    wheel = await api.wheel()
    await api.job(wheel)
    default = await _error(await api.submit_csv(wheel))
    swedish = await _error(await api.submit_csv(wheel, headers=SWEDISH))
    resp = await api.submit_csv(wheel, headers=ENGLISH)
    english = await _error(resp)
    assert default[:2] == swedish[:2] == english[:2] == (429, "too_many_active_jobs")
    assert "Retry-After" in resp.headers
    assert default[2] == swedish[2] == (
        "Du har redan 1 pågående importer (högst 1). Försök igen när någon av dem är klar.")
    assert english[2] == "You already have 1 active imports (at most 1); try again when one has finished."


@pytest.mark.parametrize(("request_of", "status", "code", "swedish", "english"), [
    (lambda wheel: ("POST", f"/api/wheels/{wheel}/imports", {"params": {"mode": "merge"},
                                                              "data": b"a", "headers": {"Content-Type": "text/csv"}}),
     400, "bad_mode", "mode ska vara append eller replace.", "mode must be append or replace."),
    (lambda wheel: ("GET", f"/api/imports/{uuid.uuid4()}", {}),
     404, "not_found", "Importen finns inte.", "No such job."),
    (lambda wheel: ("GET", "/api/wheels/not-a-uuid", {}),
     404, "not_found", "Årshjulet finns inte.", "No such wheel."),
    (lambda wheel: ("POST", f"/api/wheels/{wheel}/imports", {"data": b"x", "headers": {"Content-Type": "image/png"}}),
     415, "unsupported_media_type", "Skicka filen som multipart/form-data, text/csv, ett kalkylblad eller "
     "application/json.", "Send the file as multipart/form-data, text/csv, a spreadsheet type or application/json."),
    (lambda wheel: ("GET", "/api/no-such-route", {}),
     404, "not_found", "Sidan eller resursen finns inte.", "No such page or resource."),
])
async def test_request_errors_follow_accept_language(api, request_of, status, code, swedish, english):
    """A 400, a 404 of ours and of aiohttp's router, and a 415 answer in Swedish by default and in
    English with `Accept-Language: en`; status and code do not change."""
    method, path, kwargs = request_of(await api.wheel())
    headers = kwargs.pop("headers", {})
    default = await _error(await api.call(method, path, headers=headers, **kwargs))
    translated = await _error(await api.call(method, path, headers={**headers, **ENGLISH}, **kwargs))
    assert default == (status, code, swedish)
    assert translated == (status, code, english)


async def test_a_401_follows_accept_language(api):
    """A request without a token is 401 missing_token in Swedish by default, in English with `en`."""
    default = await _error(await api.client.get("/api/imports"))
    english = await _error(await api.client.get("/api/imports", headers={"Accept-Language": "en"}))
    assert default == (401, "missing_token", "Begäran behöver en inloggningstoken (Bearer).")
    assert english == (401, "missing_token", "This request needs a bearer token.")
    bad = await _error(await api.client.get("/api/imports", headers={"Authorization": "Bearer x.y.z", **ENGLISH}))
    assert bad == (401, "invalid_token", "The token is not valid.")


async def test_a_file_error_from_the_reader_follows_accept_language(api):
    """An empty CSV is a 422 empty_file whose message the reader raised with its catalogue key:
    Swedish by default, English with `en`."""
    wheel = await api.wheel()
    default = await _error(await api.submit_csv(wheel, body=b""))
    english = await _error(await api.submit_csv(wheel, body=b"", headers=ENGLISH))
    assert default == (422, "empty_file", "Filen är tom.")
    assert english == (422, "empty_file", "The file is empty.")


async def test_a_bad_wheel_title_follows_accept_language(api):
    """An empty wheel title is a 400 bad_request in the request's language (server/views/wheels.py)."""
    resp = await api.call("POST", "/api/wheels", json={"title": "", "year": 2026}, headers=ENGLISH)
    assert await _error(resp) == (400, "bad_request", "title must be a string of 1 to 200 characters.")
    resp = await api.call("POST", "/api/wheels", json={"title": "", "year": 2026})
    assert await _error(resp) == (400, "bad_request", "title ska vara en text på 1 till 200 tecken.")


async def test_a_preview_is_in_the_language_of_the_request_that_computed_it(api, db_url):
    """A preview asked in English has English warnings and rejection reasons, one asked without
    Accept-Language Swedish ones; the codes are the same; a PATCH in English recomputes it in English."""
    wheel = await api.wheel()

    async def preview(headers: dict[str, str]) -> dict:
        resp = await api.call("POST", f"/api/wheels/{wheel}/previews", data=FILE,
                              headers={"Content-Type": "text/csv", **headers})
        assert resp.status == 201, await resp.text()
        return await resp.json()

    swedish, english = await preview({}), await preview(ENGLISH)
    assert [w["code"] for w in swedish["warnings"]] == [w["code"] for w in english["warnings"]]
    unmapped_sv = next(w for w in swedish["warnings"] if w["code"] == "unmapped_column")
    unmapped_en = next(w for w in english["warnings"] if w["code"] == "unmapped_column")
    assert unmapped_sv["message"] == "Kolumner med data som inget fält tar: Ansvar."
    assert unmapped_en["message"] == "Columns with data that no field takes: Ansvar."
    assert [r["reason"] for r in swedish["rejected"]] == ["Namn saknas"]
    assert [r["reason"] for r in english["rejected"]] == ["Name missing"]
    got = await api.call("GET", f"/api/previews/{english['id']}")
    assert (await got.json())["rejected"][0]["reason"] == "Name missing"
    changed = await api.call("PATCH", f"/api/previews/{swedish['id']}", json={"date_order": "day_first"},
                             headers=ENGLISH)
    assert changed.status == 200, await changed.text()
    assert (await changed.json())["rejected"][0]["reason"] == "Name missing"
    # Nothing of the preview reached the wheel in either language.
    with psycopg.connect(db_url) as conn:
        assert conn.execute("SELECT count(*) FROM items WHERE wheel_id = %s", (wheel,)).fetchone() == (0,)


async def test_a_preview_refusal_follows_accept_language(api):
    """A preview of a mapping naming a column the file lacks is a 400 bad_mapping in the request's language."""
    wheel = await api.wheel()
    params = {"mapping": '{"name": "Titel"}'}
    for headers, start in (({}, "Kolumnen 'Titel' (mapping.name) finns inte i filen."),
                           (ENGLISH, "The column 'Titel' (mapping.name) is not in the file.")):
        resp = await api.call("POST", f"/api/wheels/{wheel}/previews", data=FILE, params=params,
                              headers={"Content-Type": "text/csv", **headers})
        status, code, message = await _error(resp)
        assert (status, code) == (400, "bad_mapping") and message.startswith(start), message


async def test_a_pending_job_and_its_cancel_speak_the_language_that_started_it(api):
    """A job started with `Accept-Language: en` waits with "Waiting to start..." and, cancelled
    (by a request in any language), reads "Import cancelled"; one started without it is Swedish."""
    wheel = await api.wheel()
    english = await (await api.submit_csv(wheel, headers=ENGLISH)).json()
    swedish = await (await api.submit_csv(wheel)).json()
    assert (english["current_step"], swedish["current_step"]) == ("Waiting to start...", "Väntar på att starta...")
    cancelled = await (await api.call("POST", f"/api/imports/{english['id']}/cancel")).json()
    assert (cancelled["status"], cancelled["current_step"]) == ("cancelled", "Import cancelled")
    cancelled = await (await api.call("POST", f"/api/imports/{swedish['id']}/cancel", headers=ENGLISH)).json()
    assert (cancelled["status"], cancelled["current_step"]) == ("cancelled", "Import avbruten")
    retried = await api.call("POST", f"/api/imports/{swedish['id']}/retry", headers=ENGLISH)
    assert retried.status == 202
    assert (await retried.json())["current_step"] == "Waiting to start..."


async def test_a_job_runs_and_ends_in_the_language_that_started_it(api_factory):
    """A job started in English completes with current_step "Import complete!" and its warnings'
    messages in English (the same codes as a Swedish job's, whose step is "Import klar!")."""
    api = await api_factory(with_worker=True)
    wheel = await api.wheel()
    body = "Aktivitet;Startdatum;Slutdatum;Ansvar\nMöte;2026-02-03;2026-02-03;Eva\nPlan;2026-03-01;2026-03-01;Bo\n"
    submitted = await (await api.submit_csv(wheel, body=body.encode(), headers=ENGLISH)).json()
    english = await until_ended(api, submitted["id"])
    other = await api.wheel("Plan 2026 (sv)")
    swedish = await until_ended(api, (await (await api.submit_csv(other, body=body.encode())).json())["id"])
    assert (english["status"], english["current_step"]) == ("completed", "Import complete!")
    assert (swedish["status"], swedish["current_step"]) == ("completed", "Import klar!")
    assert [w["code"] for w in english["warnings"]] == [w["code"] for w in swedish["warnings"]]
    assert english["warnings"], english
    for warning in english["warnings"]:
        assert warning["message"] == render_warning(warning["code"], warning["details"], "en")



@pytest.mark.parametrize("kind", ["csv", "xlsx"])
async def test_a_jobs_rejection_reasons_are_in_the_language_that_started_it(api_factory, kind):
    """The rows a job rejects carry their reason (errors.csv) in the job's language, whether the
    file is read in a thread (a small CSV) or in a child process (a workbook, always)."""
    from datetime import date

    from importer.read import spreadsheet_kinds as kinds
    from tests.data.workbooks import xlsx

    api = await api_factory(with_worker=True)
    reasons = {}
    for language, headers in (("sv", {}), ("en", ENGLISH)):
        wheel = await api.wheel(f"Plan {language}")
        if kind == "csv":
            body = "Aktivitet;Startdatum;Slutdatum\nMöte;2026-02-03;2026-02-03\n;2026-03-01;\n".encode()
            content_type = "text/csv"
        else:
            body = xlsx({"Plan": [["Aktivitet", "Startdatum", "Slutdatum"],
                                  ["Möte", date(2026, 2, 3), date(2026, 2, 3)], [None, date(2026, 3, 1), None]]})
            content_type = kinds.XLSX
        resp = await api.call("POST", f"/api/wheels/{wheel}/imports", data=body,
                              headers={"Content-Type": content_type, **headers})
        assert resp.status == 202, await resp.text()
        job = await until_ended(api, (await resp.json())["id"])
        assert (job["status"], job["rejected_rows"]) == ("completed", 1), job
        reasons[language] = (await (await api.call("GET", f"/api/imports/{job['id']}/errors.csv")).read()).decode()
    assert "Namn saknas" in reasons["sv"] and "Name missing" not in reasons["sv"]
    assert "Name missing" in reasons["en"]
