"""Submitting imports over real HTTP: the three body forms, every refusal, limits and idempotency."""

from __future__ import annotations

import asyncio
import json
import uuid

import aiohttp
import pytest

from tests.acceptance.api.support import CSV, error_of

JOB_KEYS = {"id", "wheel_id", "file_name", "mode", "status", "progress", "step", "current_step",
            "total_items", "processed_items", "rejected_rows", "eta_seconds", "counts", "warnings", "error",
            "attempts", "retry_of", "created_at", "started_at", "finished_at", "seq", "links"}
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
STRUCTURED = {
    "importMode": "append", "fileName": "plan.json",
    "structure": {"rings": [{"id": "r1", "name": "Ekonomi", "type": "inner"}],
                  "activityGroups": [{"id": "g1", "name": "Möten", "color": "#3366CC"}],
                  "labels": []},
    "pages": [{"year": 2026, "items": [{"name": "Budget", "startDate": "2026-02-01", "endDate": "2026-02-03",
                                        "ringId": "r1", "activityId": "g1"}]}],
}


async def assert_a_task_per_job(pool) -> None:
    """Every queued run_import task belongs to a job: a refused submit left none behind (the
    task is queued with the checks and rolled back with them)."""
    async with pool.connection() as conn:
        row = await (await conn.execute(
            "SELECT (SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'run_import') AS tasks,"
            "       (SELECT count(*) FROM import_jobs) AS jobs,"
            "       (SELECT count(*) FROM import_jobs j JOIN procrastinate_jobs p ON p.id = j.procrastinate_job_id"
            "         WHERE p.args->>'job_id' = j.id::text) AS linked")).fetchone()
    assert row["tasks"] == row["jobs"] == row["linked"], row


def form(body: bytes = CSV, file_name: str = "plan.csv", **fields: str) -> aiohttp.FormData:
    data = aiohttp.FormData()
    data.add_field("file", body, filename=file_name, content_type="text/csv")
    for name, value in fields.items():
        data.add_field(name, value)
    return data


async def test_multipart_submit_answers_202_with_a_queued_job(api, pool):
    """A multipart upload gets 202, a Location and the job object; the job and its queued task exist."""
    wheel = await api.wheel()
    resp = await api.call("POST", f"/api/wheels/{wheel}/imports",
                          data=form(mode="replace", notify="false",
                                    mapping=json.dumps({"name": "Aktivitet", "start": "Startdatum"})))
    assert resp.status == 202, await resp.text()
    job = await resp.json()
    assert set(job) == JOB_KEYS
    assert resp.headers["Location"] == f"/api/imports/{job['id']}" == job["links"]["self"]
    assert (job["wheel_id"], job["file_name"], job["mode"], job["status"]) == (wheel, "plan.csv", "replace", "pending")
    async with pool.connection() as conn:
        row = await (await conn.execute(
            "SELECT j.notify, j.mapping, f.content, f.size_bytes, f.sha256 = sha256(f.content) AS sha_ok,"
            "       p.status AS task_status, p.task_name, p.args"
            " FROM import_jobs j JOIN import_files f ON f.id = j.file_id"
            " JOIN procrastinate_jobs p ON p.id = j.procrastinate_job_id WHERE j.id = %s", (job["id"],))).fetchone()
    assert row["notify"] is False and row["mapping"] == {"name": "Aktivitet", "start": "Startdatum"}
    assert bytes(row["content"]) == CSV and row["size_bytes"] == len(CSV) and row["sha_ok"]
    assert (row["task_status"], row["task_name"], row["args"]) == ("todo", "run_import", {"job_id": job["id"]})


async def test_raw_csv_submit_takes_query_parameters(api):
    """A text/csv body takes mode, file_name and notify from the query string."""
    wheel = await api.wheel()
    resp = await api.submit_csv(wheel, params={"mode": "replace", "file_name": "årsplan.csv", "notify": "true"})
    assert resp.status == 202, await resp.text()
    job = await resp.json()
    assert (job["file_name"], job["mode"]) == ("årsplan.csv", "replace")


async def test_structured_json_submit(api, pool):
    """The structured JSON form is accepted and stored as application/json."""
    wheel = await api.wheel()
    resp = await api.call("POST", f"/api/wheels/{wheel}/imports", json=STRUCTURED)
    assert resp.status == 202, await resp.text()
    job = await resp.json()
    assert job["file_name"] == "plan.json"
    async with pool.connection() as conn:
        row = await (await conn.execute("SELECT f.media_type FROM import_jobs j JOIN import_files f"
                                        " ON f.id = j.file_id WHERE j.id = %s", (job["id"],))).fetchone()
    assert row["media_type"] == "application/json"


@pytest.mark.parametrize(("body", "name"), [
    (b"", "empty"),
    (b"Aktivitet,Startdatum,Slutdatum\n", "header-only"),
    (PNG + bytes(range(256)) * 8, "png-renamed"),
])
async def test_unreadable_files_are_422_and_create_no_job(api, pool, body, name):
    """An empty file, a header-only file and a PNG renamed .csv get 422 before any job exists."""
    wheel = await api.wheel()
    for resp in (await api.call("POST", f"/api/wheels/{wheel}/imports", data=form(body, file_name=f"{name}.csv")),
                 await api.submit_csv(wheel, body)):
        assert resp.status == 422, (name, await resp.text())
        error_of(await resp.json())
    async with pool.connection() as conn:
        count = await (await conn.execute("SELECT count(*) AS n FROM import_jobs")).fetchone()
    assert count["n"] == 0


@pytest.mark.parametrize("content_type", ["application/pdf", "application/xml", "image/png",
                                          "application/x-www-form-urlencoded"])
async def test_other_media_types_are_415(api, content_type):
    """A body that is neither a file type of API.md (CSV, TSV, text/plain, a workbook),
    multipart nor JSON gets 415."""
    wheel = await api.wheel()
    resp = await api.call("POST", f"/api/wheels/{wheel}/imports", data=CSV, headers={"Content-Type": content_type})
    assert resp.status == 415
    assert error_of(await resp.json())["code"] == "unsupported_media_type"


async def test_malformed_requests_are_400(api):
    """Bad mode, mapping, notify, JSON, a missing file part and a mapping naming no header get 400."""
    wheel = await api.wheel()
    url = f"/api/wheels/{wheel}/imports"
    cases = [
        await api.call("POST", url, data=form(mode="overwrite")),
        await api.call("POST", url, data=form(mapping="{not json")),
        await api.call("POST", url, data=form(mapping="[1, 2]")),
        await api.call("POST", url, data=form(mapping=json.dumps({"name": "Finns inte"}))),
        await api.call("POST", url, data=form(mapping=json.dumps({"colour": "Aktivitet"}))),
        await api.call("POST", url, data=form(notify="kanske")),
        await api.submit_csv(wheel, params={"mode": "merge"}),
        await api.call("POST", url, data=b"{not json", headers={"Content-Type": "application/json"}),
        await api.call("POST", url, json=[1, 2, 3]),
        await api.call("POST", url, json={**STRUCTURED, "importMode": "merge"}),
        await api.call("POST", url, json={**STRUCTURED, "pages": [{"year": 2026, "items": [
            {"name": "X", "startDate": "2026-01-01", "endDate": "2026-01-02", "ringId": "nope",
             "activityId": "g1"}]}]}),
        await api.submit_csv(wheel, headers={"Idempotency-Key": "x" * 300}),
    ]
    no_file = aiohttp.FormData(default_to_multipart=True)
    no_file.add_field("mode", "append")
    cases.append(await api.call("POST", url, data=no_file))
    for i, resp in enumerate(cases):
        assert resp.status == 400, (i, await resp.text())
        error_of(await resp.json())


async def test_unknown_or_foreign_wheel_is_404(api, pool):
    """Submitting to a wheel that does not exist, is not a UUID, or is another user's gets 404."""
    other = api.as_other()
    foreign = await other.wheel()
    for wheel in (str(uuid.uuid4()), "not-a-uuid", foreign):
        resp = await api.submit_csv(wheel)
        assert resp.status == 404, await resp.text()
        assert error_of(await resp.json())["code"] == "not_found"
    await assert_a_task_per_job(pool)


async def test_content_length_over_the_limit_is_413_at_once(api_factory):
    """A declared Content-Length over IMPORTER_MAX_UPLOAD_BYTES gets 413 without the body being read."""
    api = await api_factory(IMPORTER_MAX_UPLOAD_BYTES="1000")
    wheel = await api.wheel()
    resp = await api.submit_csv(wheel, b"Aktivitet,Startdatum\n" + b"x,2026-01-01\n" * 200)
    assert resp.status == 413
    assert error_of(await resp.json())["details"] == {"limit_bytes": 1000}


@pytest.mark.parametrize("form_kind", ["csv", "multipart"])
async def test_oversized_stream_is_413_before_it_is_all_sent(api_factory, form_kind):
    """A chunked upload without Content-Length is cut off with 413 long before the client has sent it all."""
    limit, chunk, total = 1 << 20, 64 * 1024, 256 << 20
    api = await api_factory(IMPORTER_MAX_UPLOAD_BYTES=str(limit))
    wheel = await api.wheel()
    sent = 0

    async def body():
        nonlocal sent
        yield b"Aktivitet,Startdatum\n"
        line = b"M\xc3\xb6te,2026-01-01\n" * (chunk // 18)
        while sent < total:
            sent += len(line)
            yield line
            await asyncio.sleep(0)

    if form_kind == "csv":
        kwargs = {"data": body(), "headers": {"Content-Type": "text/csv"}}
    else:
        data = aiohttp.FormData()
        data.add_field("file", body(), filename="big.csv", content_type="text/csv")
        kwargs = {"data": data}
    try:
        async with asyncio.timeout(60):
            resp = await api.call("POST", f"/api/wheels/{wheel}/imports", **kwargs)
            assert resp.status == 413
            error_of(await resp.json())
    except aiohttp.ClientOSError:
        pass  # the server closed the connection while the client was still writing: also a refusal
    # The limit, one chunk and what the sockets buffer (about 1.3 MiB for 1 MiB here): far from all.
    assert sent < limit + (8 << 20), f"the client sent {sent} bytes before the server refused"


async def test_active_jobs_limit_holds_under_parallel_submits(api_factory, pool):
    """Ten parallel submits with a limit of three: exactly three are accepted, the rest get 429 + Retry-After."""
    # All ten in flight at once (the per-user upload cap would refuse most of them before the
    # active-jobs limit is reached), so that the check at insert is what decides.
    api = await api_factory(IMPORTER_MAX_ACTIVE_JOBS="3", IMPORTER_MAX_UPLOADS_PER_USER="10")
    wheel = await api.wheel()
    responses = await asyncio.gather(*(api.submit_csv(wheel) for _ in range(10)))
    statuses = sorted(r.status for r in responses)
    assert statuses == [202] * 3 + [429] * 7, statuses
    for r in responses:
        if r.status == 429:
            assert int(r.headers["Retry-After"]) > 0
            assert error_of(await r.json())["code"] == "too_many_active_jobs"
    # A finished job frees a place.
    async with pool.connection() as conn:
        await conn.execute("UPDATE import_jobs SET status = 'cancelled', finished_at = now()"
                           " WHERE id = (SELECT id FROM import_jobs LIMIT 1)")
    assert (await api.submit_csv(wheel)).status == 202
    assert (await api.submit_csv(wheel)).status == 429
    await assert_a_task_per_job(pool)


async def test_idempotency_key_returns_the_first_job(api_factory, pool):
    """The same Idempotency-Key returns the first job with 200, also when the requests race."""
    api = await api_factory(IMPORTER_MAX_UPLOADS_PER_USER="5")  # five racing uploads in flight at once
    wheel = await api.wheel()
    first = await api.submit_csv(wheel, headers={"Idempotency-Key": "plan-1"})
    assert first.status == 202
    again = await api.submit_csv(wheel, headers={"Idempotency-Key": "plan-1"})
    assert again.status == 200
    assert (await again.json())["id"] == (await first.json())["id"]
    assert again.headers["Location"] == first.headers["Location"]
    racing = await asyncio.gather(*(api.submit_csv(wheel, headers={"Idempotency-Key": "plan-2"}) for _ in range(5)))
    assert sorted(r.status for r in racing) == [200, 200, 200, 200, 202]
    assert len({(await r.json())["id"] for r in racing}) == 1
    # Keys belong to their user: another user's same key starts its own job.
    other = api.as_other()
    other_wheel = await other.wheel()
    resp = await other.submit_csv(other_wheel, headers={"Idempotency-Key": "plan-1"})
    assert resp.status == 202
    async with pool.connection() as conn:
        count = await (await conn.execute("SELECT count(*) AS n FROM import_jobs")).fetchone()
    assert count["n"] == 3
    await assert_a_task_per_job(pool)
