"""The API with a real worker in-process: imports complete, fail, report rejected rows and retry."""

from __future__ import annotations

import asyncio
import csv
import io

TERMINAL = ("completed", "failed", "cancelled")


async def _until_ended(api, job_id: str) -> dict:
    async with asyncio.timeout(30):
        while True:
            job = await (await api.call("GET", f"/api/imports/{job_id}")).json()
            if job["status"] in TERMINAL:
                return job
            await asyncio.sleep(0.05)


async def test_import_completes_and_items_are_readable(api_factory):
    """A submitted CSV is imported by the worker: the job completes with counts and the items are listed."""
    api = await api_factory(with_worker=True)
    wheel = await api.wheel()
    body = "Aktivitet;Startdatum;Slutdatum;Område\nMöte;2026-03-01;2026-03-02;Ekonomi\n" \
           "Jul;2026-12-20;2027-01-06;Ekonomi\nTrasig;inte ett datum;2026-01-01;Ekonomi\n"
    resp = await api.submit_csv(wheel, body.encode())
    assert resp.status == 202
    job = await _until_ended(api, (await resp.json())["id"])
    assert job["status"] == "completed" and job["progress"] == 100
    assert job["rejected_rows"] == 1 and job["counts"]["items"] == 3 and job["counts"]["pages"] == 2
    items = (await (await api.call("GET", f"/api/wheels/{wheel}/items", params={"year": "2027"})).json())["items"]
    assert [(i["name"], i["start_date"], i["end_date"], i["ring"]) for i in items] == [
        ("Jul", "2027-01-01", "2027-01-06", "Ekonomi")]
    counts = (await (await api.call("GET", f"/api/wheels/{wheel}")).json())["counts"]
    assert counts["items"] == 3
    raw = await (await api.call("GET", f"/api/imports/{job['id']}/errors.csv")).read()
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == ["row", "column", "reason", "values"] and len(rows) == 2 and rows[1][0] == "4"


async def test_failed_import_can_be_retried(api_factory):
    """A file whose every row is rejected fails (no_valid_rows); its retry is a new job from the stored file."""
    api = await api_factory(with_worker=True)
    wheel = await api.wheel()
    body = b"Aktivitet;Startdatum\n;2026-01-01\nUtan datum;aldrig\n"
    resp = await api.submit_csv(wheel, body)
    assert resp.status == 202, await resp.text()
    failed = await _until_ended(api, (await resp.json())["id"])
    assert failed["status"] == "failed" and failed["error"]["code"] == "no_valid_rows"
    resp = await api.call("POST", f"/api/imports/{failed['id']}/retry")
    assert resp.status == 202
    retried = await _until_ended(api, (await resp.json())["id"])
    assert retried["retry_of"] == failed["id"] and retried["status"] == "failed"
    assert (await api.call("POST", f"/api/imports/{retried['id']}/cancel")).status == 409
