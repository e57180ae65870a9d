"""Jobs over real HTTP: read, list and page, cancel, retry, errors.csv, and another user's jobs."""

from __future__ import annotations

import asyncio
import csv
import io
import uuid

import psycopg
import pytest

from tests.acceptance.api.support import error_of


async def _set(pool, job_id: str, sql: str) -> None:
    async with pool.connection() as conn:
        await conn.execute(f"UPDATE import_jobs SET {sql} WHERE id = %s", (job_id,))


async def _task_status(pool, job_id: str) -> str:
    async with pool.connection() as conn:
        row = await (await conn.execute(
            "SELECT p.status FROM import_jobs j JOIN procrastinate_jobs p ON p.id = j.procrastinate_job_id"
            " WHERE j.id = %s", (job_id,))).fetchone()
    return row["status"]


async def test_get_a_job(api):
    """GET /api/imports/{id} answers the job object as the submit did."""
    wheel = await api.wheel()
    job = await api.job(wheel)
    resp = await api.call("GET", f"/api/imports/{job['id']}")
    assert resp.status == 200
    assert await resp.json() == job


async def test_list_newest_first_with_filters_and_paging(api_factory, pool):
    """The list is the user's own jobs, newest first, filtered by status and wheel, keyset-paged by `before`."""
    api = await api_factory(IMPORTER_MAX_ACTIVE_JOBS="50")
    first, second = await api.wheel(), await api.wheel("Andra", 2027)
    jobs = [await api.job(first) for _ in range(3)] + [await api.job(second) for _ in range(2)]
    other = api.as_other()
    await other.job(await other.wheel())
    await _set(pool, jobs[0]["id"], "status = 'cancelled', finished_at = now()")
    newest_first = [j["id"] for j in reversed(jobs)]

    body = await (await api.call("GET", "/api/imports")).json()
    assert [j["id"] for j in body["jobs"]] == newest_first
    body = await (await api.call("GET", "/api/imports", params={"wheel_id": first})).json()
    assert [j["id"] for j in body["jobs"]] == newest_first[2:]
    body = await (await api.call("GET", "/api/imports", params={"status": "cancelled"})).json()
    assert [j["id"] for j in body["jobs"]] == [jobs[0]["id"]]

    page1 = await (await api.call("GET", "/api/imports", params={"limit": "2"})).json()
    assert [j["id"] for j in page1["jobs"]] == newest_first[:2]
    page2 = await (await api.call("GET", "/api/imports",
                                  params={"limit": "2", "before": page1["jobs"][-1]["id"]})).json()
    assert [j["id"] for j in page2["jobs"]] == newest_first[2:4]
    stamp = page2["jobs"][-1]["created_at"]
    page3 = await (await api.call("GET", "/api/imports", params={"before": stamp})).json()
    assert [j["id"] for j in page3["jobs"]] == newest_first[4:]


@pytest.mark.parametrize("params", [
    {"limit": "0"}, {"limit": "101"}, {"limit": "many"}, {"status": "done"}, {"wheel_id": "x"},
    {"before": "yesterday"}, {"before": "2026-01-01T00:00:00"}, {"before": str(uuid.uuid4())},
])
async def test_bad_list_parameters_are_400(api, params):
    """limit outside 1..100, an unknown status, a malformed wheel_id or before get 400."""
    resp = await api.call("GET", "/api/imports", params=params)
    assert resp.status == 400, await resp.text()
    error_of(await resp.json())


async def test_cancel_a_pending_job(api, pool):
    """Cancelling a pending job ends it `cancelled` at once and cancels its queued task in the same transaction."""
    job = await api.job(await api.wheel())
    resp = await api.call("POST", f"/api/imports/{job['id']}/cancel")
    assert resp.status == 202
    body = await resp.json()
    assert body["status"] == "cancelled" and body["finished_at"] is not None
    assert await _task_status(pool, job["id"]) == "cancelled"
    resp = await api.call("POST", f"/api/imports/{job['id']}/cancel")
    assert resp.status == 409
    assert error_of(await resp.json())["details"] == {"status": "cancelled"}


async def test_cancel_a_running_job(api, pool):
    """Cancelling a processing job makes it `cancelling`; cancelling again answers 202 unchanged."""
    job = await api.job(await api.wheel())
    await _set(pool, job["id"], "status = 'processing', attempts = 1, started_at = now()")
    resp = await api.call("POST", f"/api/imports/{job['id']}/cancel")
    assert resp.status == 202
    body = await resp.json()
    assert body["status"] == "cancelling"
    again = await api.call("POST", f"/api/imports/{job['id']}/cancel")
    assert again.status == 202
    assert await again.json() == body


@pytest.mark.parametrize("terminal", ["completed", "failed"])
async def test_cancel_a_finished_job_is_409(api, pool, terminal):
    """A job that already ended cannot be cancelled: 409."""
    job = await api.job(await api.wheel())
    extra = ", progress = 100" if terminal == "completed" else ", error_code = 'boom'"
    await _set(pool, job["id"], f"status = '{terminal}', finished_at = now(){extra}")
    resp = await api.call("POST", f"/api/imports/{job['id']}/cancel")
    assert resp.status == 409
    assert error_of(await resp.json())["code"] == "job_finished"


async def test_retry_a_failed_job(api, pool):
    """Retrying a failed job gives 202 and a new pending job with retry_of, the same file and a queued task."""
    wheel = await api.wheel()
    resp = await api.submit_csv(wheel, params={"mode": "replace", "file_name": "plan.csv"})
    job = await resp.json()
    await _set(pool, job["id"], "status = 'failed', error_code = 'boom', finished_at = now()")
    resp = await api.call("POST", f"/api/imports/{job['id']}/retry")
    assert resp.status == 202, await resp.text()
    new = await resp.json()
    assert resp.headers["Location"] == f"/api/imports/{new['id']}"
    assert new["id"] != job["id"] and new["retry_of"] == job["id"]
    assert (new["status"], new["mode"], new["file_name"], new["wheel_id"]) == ("pending", "replace", "plan.csv", wheel)
    async with pool.connection() as conn:
        rows = await (await conn.execute("SELECT DISTINCT file_id FROM import_jobs")).fetchall()
    assert len(rows) == 1
    assert await _task_status(pool, new["id"]) == "todo"


async def test_a_job_is_retried_once(api, pool):
    """A second retry of the same job is 409 job_already_retried naming the first retry, and
    queues nothing: one failed file is never imported twice; the retry itself can be retried."""
    job = await api.job(await api.wheel())
    await _set(pool, job["id"], "status = 'cancelled', finished_at = now()")
    first = await (await api.call("POST", f"/api/imports/{job['id']}/retry")).json()
    resp = await api.call("POST", f"/api/imports/{job['id']}/retry")
    assert resp.status == 409
    error = error_of(await resp.json())
    assert error["code"] == "job_already_retried" and error["details"] == {"retry": first["id"]}
    async with pool.connection() as conn:
        retries = await (await conn.execute("SELECT count(*) AS n FROM import_jobs WHERE retry_of = %s",
                                            (job["id"],))).fetchone()
    assert retries["n"] == 1
    await _set(pool, first["id"], "status = 'failed', error_code = 'boom', finished_at = now()")
    assert (await api.call("POST", f"/api/imports/{first['id']}/retry")).status == 202


@pytest.mark.parametrize("status", ["pending", "processing", "completed"])
async def test_retry_of_a_job_that_did_not_fail_is_409(api, pool, status):
    """Only failed or cancelled jobs can be retried: 409 otherwise."""
    job = await api.job(await api.wheel())
    if status == "processing":
        await _set(pool, job["id"], "status = 'processing'")
    elif status == "completed":
        await _set(pool, job["id"], "status = 'completed', progress = 100, finished_at = now()")
    resp = await api.call("POST", f"/api/imports/{job['id']}/retry")
    assert resp.status == 409
    assert error_of(await resp.json())["code"] == "job_not_retryable"


async def test_retry_obeys_the_active_jobs_limit(api_factory, pool):
    """A retry counts against IMPORTER_MAX_ACTIVE_JOBS like a submit: 429 when the user is at the limit."""
    api = await api_factory(IMPORTER_MAX_ACTIVE_JOBS="1")
    wheel = await api.wheel()
    job = await api.job(wheel)
    await _set(pool, job["id"], "status = 'cancelled', finished_at = now()")
    await api.job(wheel)
    resp = await api.call("POST", f"/api/imports/{job['id']}/retry")
    assert resp.status == 429 and "Retry-After" in resp.headers


async def test_errors_csv_is_excel_safe(api, pool):
    """errors.csv is UTF-8 with a BOM and `;`, has Rad, the file's own columns and Orsak, and
    neutralises formula cells."""
    job = await api.job(await api.wheel())
    async with pool.connection() as conn:
        await conn.execute("UPDATE import_jobs SET headers = ARRAY['Aktivitet', 'Startdatum'] WHERE id = %s",
                           (job["id"],))
        await conn.execute(
            "INSERT INTO import_rejected_rows (job_id, row_number, column_name, reason, raw_values) VALUES"
            " (%(j)s, 3, 'Startdatum', 'Datumet går inte att läsa', ARRAY['Möte', '=HYPERLINK(\"x\")']),"
            " (%(j)s, 2, '@Slut', '+1 dag', ARRAY['-2+3', 'åäö'])", {"j": job["id"]})
    resp = await api.call("GET", f"/api/imports/{job['id']}/errors.csv")
    assert resp.status == 200
    assert resp.headers["Content-Type"].startswith("text/csv")
    raw = await resp.read()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == ["Rad", "Aktivitet", "Startdatum", "Orsak"]
    assert rows[1] == ["2", "'-2+3", "åäö", "'@Slut: +1 dag"]
    assert rows[2] == ["3", "Möte", "'=HYPERLINK(\"x\")", "Startdatum: Datumet går inte att läsa"]
    for row in rows[1:]:
        assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in row)


# Rejected rows of every kind errors.csv writes: quotes and `;` inside a cell, a line break, formula
# starts, a column named in the reason or not, a row wider than the headers, an empty row.
GOLDEN_ROWS = [
    (2, "Startdatum", "Datumet går inte att läsa", ["Möte", "2026-13-01", 'Säg "hej"; sen gå']),
    (3, "Slutdatum", "Slutdatum: före start", ["x\ny", "-3", "@SUM(A1)"]),
    (4, "", "+plus", ["", "", ""]),
    (5, None, "Raden har för många celler", ["A", "B", "C", "extra;cell", "=1+1"]),
    (6, "Aktivitet", "Tom rad", []),
]
# errors.csv of GOLDEN_ROWS under headers Aktivitet, Startdatum, Beskrivning, and of their first
# two rows for a job no attempt has read (no headers), byte for byte as the server wrote them
# before it streamed the file (commit 22e9b12, which built it whole in memory).
GOLDEN_CSV = (
    b'\xef\xbb\xbfRad;Aktivitet;Startdatum;Beskrivning;Kolumn 4;Kolumn 5;Orsak\r\n'
    b'2;M\xc3\xb6te;2026-13-01;"S\xc3\xa4g ""hej""; sen g\xc3\xa5";;;'
    b'Startdatum: Datumet g\xc3\xa5r inte att l\xc3\xa4sa\r\n'
    b'3;"x\ny";\'-3;\'@SUM(A1);;;Slutdatum: f\xc3\xb6re start\r\n'
    b"4;;;;;;'+plus\r\n"
    b'5;A;B;C;"extra;cell";\'=1+1;Raden har f\xc3\xb6r m\xc3\xa5nga celler\r\n'
    b'6;;;;;;Aktivitet: Tom rad\r\n')
GOLDEN_CSV_NO_HEADERS = (
    b'\xef\xbb\xbfRad;Kolumn 1;Kolumn 2;Kolumn 3;Orsak\r\n'
    b'2;M\xc3\xb6te;2026-13-01;"S\xc3\xa4g ""hej""; sen g\xc3\xa5";'
    b'Startdatum: Datumet g\xc3\xa5r inte att l\xc3\xa4sa\r\n'
    b'3;"x\ny";\'-3;\'@SUM(A1);Slutdatum: f\xc3\xb6re start\r\n')


async def _reject(pool, job_id: str, headers: list[str] | None, rows) -> None:
    async with pool.connection() as conn:
        await conn.execute("UPDATE import_jobs SET headers = %s WHERE id = %s", (headers, job_id))
        async with conn.cursor() as cur:
            await cur.executemany(
                "INSERT INTO import_rejected_rows (job_id, row_number, column_name, reason, raw_values)"
                " VALUES (%s, %s, %s, %s, %s)", [(job_id, *row) for row in rows])


async def test_errors_csv_content_is_as_before_streaming(api, pool):
    """errors.csv, now streamed, is byte for byte the file the server built whole before, with
    the same Content-Type and Content-Disposition, with headers and without."""
    wheel = await api.wheel()
    job, unread = await api.job(wheel), await api.job(wheel)
    await _reject(pool, job["id"], ["Aktivitet", "Startdatum", "Beskrivning"], GOLDEN_ROWS)
    await _reject(pool, unread["id"], None, GOLDEN_ROWS[:2])
    resp = await api.call("GET", f"/api/imports/{job['id']}/errors.csv")
    assert resp.status == 200
    assert resp.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert resp.headers["Content-Disposition"] == f'attachment; filename="import-{job["id"]}-errors.csv"'
    assert await resp.read() == GOLDEN_CSV
    resp = await api.call("GET", f"/api/imports/{unread['id']}/errors.csv")
    assert await resp.read() == GOLDEN_CSV_NO_HEADERS


async def test_a_large_errors_csv_is_streamed_whole(api, pool):
    """errors.csv of thousands of rejected rows (several of the server's batches) comes as a
    stream (chunked, no Content-Length known up front) and holds every row once, in row order,
    each with its own cells, the widest row's columns named."""
    job = await api.job(await api.wheel())
    n = 4321
    async with pool.connection() as conn:
        await conn.execute("UPDATE import_jobs SET headers = ARRAY['Aktivitet', 'Startdatum'] WHERE id = %s",
                           (job["id"],))
        await conn.execute("""
            INSERT INTO import_rejected_rows (job_id, row_number, column_name, reason, raw_values)
            SELECT %(j)s, k + 1, 'Startdatum', 'Fel nummer ' || k,
                   CASE WHEN k = 3000 THEN ARRAY['Möte ' || k, 'x', 'extra']
                        ELSE ARRAY['Möte ' || k || '; "citat"', '=' || k] END
            FROM generate_series(1, %(n)s) k""", {"j": job["id"], "n": n})
    resp = await api.call("GET", f"/api/imports/{job['id']}/errors.csv")
    assert resp.status == 200
    assert resp.headers.get("Transfer-Encoding") == "chunked" and "Content-Length" not in resp.headers
    rows = list(csv.reader(io.StringIO((await resp.read()).decode("utf-8-sig"), newline=""), delimiter=";"))
    assert rows[0] == ["Rad", "Aktivitet", "Startdatum", "Kolumn 3", "Orsak"]
    assert [int(r[0]) for r in rows[1:]] == list(range(2, n + 2))
    for k, row in enumerate(rows[1:], start=1):
        if k == 3000:
            assert row == [str(k + 1), f"Möte {k}", "x", "extra", f"Startdatum: Fel nummer {k}"]
        else:
            assert row == [str(k + 1), f'Möte {k}; "citat"', f"'={k}", "", f"Startdatum: Fel nummer {k}"]


async def test_a_download_of_errors_csv_dropped_midway_gives_its_connection_back(api, pool, db_url):
    """A client that leaves errors.csv after its first bytes leaves no database connection
    behind in an open transaction, and the server goes on answering."""
    job = await api.job(await api.wheel())
    async with pool.connection() as conn:
        await conn.execute("""
            INSERT INTO import_rejected_rows (job_id, row_number, column_name, reason, raw_values)
            SELECT %(j)s, k + 1, 'Startdatum', repeat('Fel ', 50), ARRAY[repeat('x', 500), repeat('y', 500)]
            FROM generate_series(1, 20000) k""", {"j": job["id"]})
    resp = await api.call("GET", f"/api/imports/{job['id']}/errors.csv")
    assert resp.status == 200
    assert (await resp.content.read(1024)).startswith(b"\xef\xbb\xbfRad;")
    resp.close()  # drops the connection with most of the file unread
    database = psycopg.conninfo.conninfo_to_dict(db_url)["dbname"]
    async with asyncio.timeout(30):
        while True:
            async with pool.connection() as conn:
                held = (await (await conn.execute(
                    "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = %s"
                    " AND application_name = 'importer-api' AND state <> 'idle'", (database,))).fetchone())["n"]
            if held == 0:
                break
            await asyncio.sleep(0.1)
    assert (await api.call("GET", f"/api/imports/{job['id']}")).status == 200


async def test_another_users_job_is_404_everywhere(api):
    """Another user's job is 404 on every job route, exactly like one that does not exist."""
    other = api.as_other()
    foreign = await other.job(await other.wheel())
    for job_id in (foreign["id"], str(uuid.uuid4()), "not-a-uuid"):
        for method, path in (("GET", ""), ("POST", "/cancel"), ("POST", "/retry"), ("GET", "/errors.csv"),
                             ("GET", "/events")):
            resp = await api.call(method, f"/api/imports/{job_id}{path}")
            assert resp.status == 404, (method, path, await resp.text())
            assert error_of(await resp.json())["code"] == "not_found"
    assert (await (await api.call("GET", "/api/imports")).json())["jobs"] == []
    resp = await api.call("GET", "/api/imports", params={"before": foreign["id"]})
    assert resp.status == 400
