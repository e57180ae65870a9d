"""The loader against a real Postgres: data semantics, atomicity, cancel, progress."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import date

import attrs
import psycopg
import pytest

from importer.load import attempt
from importer.load.readers import read_stored_file
from importer.model import Activity, Declared, JobWarning, Rejection
from importer.settings import LoadSettings as LoadLimits
from importer.settings import Settings
from tests.factories import make_job, make_user, make_wheel
from tests.import_support import csv_rows, job_row, snapshot, wait_for

pytestmark = pytest.mark.timeout(120)

SETTINGS = Settings.from_env({"DATABASE_URL": "unused"})


def run_job(pool, job, *, limits: LoadLimits | None = None, **kwargs):
    """One attempt with the default settings, or with `limits` as their load part."""
    settings = SETTINGS if limits is None else attrs.evolve(SETTINGS, load=limits)
    return attempt.run_job(pool, job, settings=settings, **kwargs)


class ListSource:
    """A Source from a list of rows; `delay` seconds pass before each row after `slow_from`."""

    declared = Declared()
    warnings = ()

    def __init__(self, rows, *, delay: float = 0.0, slow_from: int = 0, file_name: str = "t.csv"):
        self.rows = rows
        self.total_rows = len(rows)
        self.file_name = file_name
        self.delay = delay
        self.slow_from = slow_from

    def __iter__(self):
        for i, row in enumerate(self.rows):
            if self.delay and i >= self.slow_from:
                time.sleep(self.delay)
            yield row


def source_of(src):
    async def open_source(media_type, content, file_name, mapping):
        return src
    return open_source


async def setup(pool, content: bytes = b"", **columns):
    user = await make_user(pool)
    wheel = await make_wheel(pool, user)
    job = await make_job(pool, user, wheel, content=content or csv_rows(10), **columns)
    return user, wheel, job


async def count(pool, table: str, wheel) -> int:
    async with pool.connection() as conn:
        row = await (await conn.execute(f"SELECT count(*) AS n FROM {table} WHERE wheel_id = %s",
                                        (wheel,))).fetchone()
    return row["n"]


async def test_append_import_completes_with_counts(pool):
    """A CSV import ends `completed` at 100% with the file's items and the counts it created."""
    _user, wheel, job = await setup(pool, csv_rows(500, rings=3, groups=40, labels=5))
    assert await run_job(pool, job) == "completed"
    row = await job_row(pool, job)
    assert (row["status"], row["progress"], row["step"], row["current_step"]) == (
        "completed", 100, "done", "Import klar!")
    assert (row["created_rings"], row["created_groups"], row["created_labels"],
            row["created_pages"], row["created_items"]) == (3, 40, 5, 1, 500)
    assert (row["total_items"], row["processed_items"], row["attempts"]) == (500, 500, 1)
    assert await count(pool, "items", wheel) == 500
    async with pool.connection() as conn:
        email = await (await conn.execute(
            "SELECT e.kind, count(pj.id) AS queued FROM import_emails e"
            " LEFT JOIN procrastinate_jobs pj ON pj.args->>'job_id' = e.job_id::text"
            " WHERE e.job_id = %s GROUP BY e.kind", (job,))).fetchone()
    assert email == {"kind": "success", "queued": 1}  # deferred in the data transaction


async def test_append_reuses_parents_by_name_and_pages_by_year(pool):
    """An append finds rings, groups and labels case-insensitively and pages by year."""
    user, wheel, job = await setup(pool, csv_rows(30, rings=2, groups=2, labels=2))
    assert await run_job(pool, job) == "completed"
    before = await snapshot(pool, wheel)
    content = csv_rows(20, rings=3, groups=2, labels=2).replace(b"Ring 0", b"RING 0").replace(
        b"Grupp 1", b"grupp 1").replace(b"Person 1", b"PERSON 1")
    # The same rows again: kept (skip_duplicates off), so that every item shows its parents.
    job2 = await make_job(pool, user, wheel, content=content, skip_duplicates=False)
    assert await run_job(pool, job2) == "completed"
    after = await snapshot(pool, wheel)
    assert len(after["rings"]) == 3 and len(after["groups"]) == 2 and len(after["labels"]) == 2
    assert {r["id"] for r in before["rings"]} < {r["id"] for r in after["rings"]}
    assert after["groups"] == before["groups"] and after["labels"] == before["labels"]
    assert after["pages"] == before["pages"]
    assert len(after["items"]) == 50
    row = await job_row(pool, job2)
    assert (row["created_rings"], row["created_groups"], row["created_labels"], row["created_pages"]) == (1, 0, 0, 0)


async def test_append_of_an_earlier_year_renumbers_pages_by_year(pool):
    """Pages end ordered by year 1..n even when an append adds a year before existing ones."""
    user, wheel, job = await setup(pool, csv_rows(5, first_year=2026))
    await run_job(pool, job)
    job2 = await make_job(pool, user, wheel, content=csv_rows(5, first_year=2024))
    assert await run_job(pool, job2) == "completed"
    pages = sorted((p["year"], p["page_order"]) for p in (await snapshot(pool, wheel))["pages"])
    assert pages == [(2024, 1), (2026, 2)]


async def test_replace_swaps_everything(pool):
    """A replace import leaves exactly the file's structure and items, none of the old."""
    user, wheel, job = await setup(pool, csv_rows(40, rings=3, groups=5, first_year=2024))
    await run_job(pool, job)
    job2 = await make_job(pool, user, wheel, content=csv_rows(7, rings=1, groups=2, labels=1),
                          mode="replace")
    assert await run_job(pool, job2) == "completed"
    after = await snapshot(pool, wheel)
    assert [len(after[k]) for k in ("rings", "groups", "labels", "pages", "items")] == [1, 2, 1, 1, 7]
    assert [p["year"] for p in after["pages"]] == [2025]


async def test_replace_with_no_valid_rows_fails_and_changes_nothing(pool):
    """A replace whose rows all reject fails `no_valid_rows`, keeps the wheel, stores the reasons."""
    user, wheel, job = await setup(pool, csv_rows(20))
    await run_job(pool, job)
    before = await snapshot(pool, wheel)
    bad = b"Aktivitet,Startdatum,Slutdatum\nA,inte ett datum,2025-01-01\nB,2025-05-01,2025-04-01\n"
    job2 = await make_job(pool, user, wheel, content=bad, mode="replace")
    assert await run_job(pool, job2) == "failed"
    row = await job_row(pool, job2)
    assert (row["status"], row["error_code"], row["rejected_rows"]) == ("failed", "no_valid_rows", 2)
    assert await snapshot(pool, wheel) == before
    async with pool.connection() as conn:
        stored = await (await conn.execute(
            "SELECT row_number FROM import_rejected_rows WHERE job_id = %s ORDER BY 1", (job2,))).fetchall()
    assert [r["row_number"] for r in stored] == [2, 3]


async def test_replace_failing_on_a_constraint_keeps_the_old_data(pool):
    """A row the database refuses (a 201-character name) fails a replace and changes nothing."""
    user, wheel, job = await setup(pool, csv_rows(20))
    await run_job(pool, job)
    before = await snapshot(pool, wheel)
    rows = [Activity(row_number=i + 2, name=f"A{i}", start=date(2025, 1, 1), end=date(2025, 1, 2))
            for i in range(12_000)]
    rows.append(Activity(row_number=12_002, name="x" * 201, start=date(2025, 1, 1), end=date(2025, 1, 1)))
    job2 = await make_job(pool, user, wheel, mode="replace")
    assert await run_job(pool, job2, open_source=source_of(ListSource(rows))) == "failed"
    row = await job_row(pool, job2)
    assert (row["status"], row["error_code"]) == ("failed", "invalid_data")
    assert "items_name_length" in row["error_message"]
    assert await snapshot(pool, wheel) == before


async def test_cancel_mid_load_rolls_back(pool):
    """A job set `cancelling` while it loads ends `cancelled` and the wheel is as it was."""
    user, wheel, job = await setup(pool, csv_rows(20))
    await run_job(pool, job)
    before = await snapshot(pool, wheel)
    rows = [Activity(row_number=i + 2, name=f"A{i}", start=date(2025, 1, 1), end=date(2025, 1, 2))
            for i in range(30_000)]
    job2 = await make_job(pool, user, wheel, mode="replace")
    limits = LoadLimits(chunk_rows=1000)
    runner = asyncio.create_task(run_job(pool, job2, limits=limits, open_source=source_of(
        ListSource(rows, delay=0.0005, slow_from=2000))))
    await wait_for(pool, job2, lambda r: r["processed_items"] > 0, within=30)
    async with pool.connection() as conn:
        await conn.execute("UPDATE import_jobs SET status = 'cancelling' WHERE id = %s", (job2,))
    assert await asyncio.wait_for(runner, 30) == "cancelled"
    row = await job_row(pool, job2)
    assert (row["status"], row["current_step"]) == ("cancelled", "Import avbruten")
    assert row["finished_at"] is not None
    assert await snapshot(pool, wheel) == before


async def test_job_cancelled_while_pending_does_not_run(pool):
    """A job that was cancelled before a worker picked it up is left alone."""
    _user, wheel, job = await setup(pool, status="cancelled", finished_at="2026-01-01T00:00:00Z")
    assert await run_job(pool, job) is None
    row = await job_row(pool, job)
    assert (row["status"], row["attempts"]) == ("cancelled", 0)
    assert await count(pool, "items", wheel) == 0


async def test_completed_job_is_not_run_again(pool):
    """Running a completed job a second time changes nothing."""
    _user, wheel, job = await setup(pool, csv_rows(10))
    await run_job(pool, job)
    assert await run_job(pool, job) is None
    assert await count(pool, "items", wheel) == 10
    assert (await job_row(pool, job))["attempts"] == 1


async def test_multi_year_rows_split_per_page(pool):
    """Rows crossing a year boundary give one page per year and pieces sharing a link id."""
    _user, wheel, job = await setup(pool, csv_rows(100, cross_every=10))
    assert await run_job(pool, job) == "completed"
    async with pool.connection() as conn:
        pages = await (await conn.execute(
            "SELECT year, page_order FROM wheel_pages WHERE wheel_id = %s ORDER BY year", (wheel,))).fetchall()
        links = await (await conn.execute(
            "SELECT i.cross_year_group_id AS link, array_agg(p.year ORDER BY p.year) AS years,"
            " array_agg(i.start_date ORDER BY p.year) AS starts"
            " FROM items i JOIN wheel_pages p ON p.id = i.page_id"
            " WHERE i.wheel_id = %s AND i.cross_year_group_id IS NOT NULL GROUP BY 1", (wheel,))).fetchall()
    assert [(p["year"], p["page_order"]) for p in pages] == [(2025, 1), (2026, 2)]
    assert len(links) == 10
    assert all(link["years"] == [2025, 2026] for link in links)
    assert all(link["starts"] == [date(2025, 12, 20), date(2026, 1, 1)] for link in links)
    row = await job_row(pool, job)
    assert (row["created_items"], row["created_pages"], row["processed_items"]) == (110, 2, 100)


async def test_rejections_are_counted_and_stored_up_to_the_cap(pool):
    """Every rejected row is counted; stored rows stop at the cap; valid rows still import."""
    rows = [Rejection(row_number=i + 2, column="Startdatum", reason="ogiltigt datum", values=("x", "y"))
            for i in range(30)]
    rows += [Activity(row_number=100 + i, name=f"A{i}", start=date(2025, 1, 1), end=date(2025, 1, 1))
             for i in range(5)]
    _user, _wheel, job = await setup(pool)
    limits = LoadLimits(max_stored_rejections=10, chunk_rows=7)
    assert await run_job(pool, job, limits=limits, open_source=source_of(ListSource(rows))) == "completed"
    row = await job_row(pool, job)
    assert (row["rejected_rows"], row["created_items"], row["processed_items"]) == (30, 5, 35)
    async with pool.connection() as conn:
        stored = await (await conn.execute(
            "SELECT count(*) AS n, min(raw_values) AS v FROM import_rejected_rows WHERE job_id = %s",
            (job,))).fetchone()
    assert stored["n"] == 10 and stored["v"] == ["x", "y"]


async def test_progress_writes_are_throttled(pool):
    """A 50,000-row import writes at most ~10 progress updates per second, plus the phases."""
    _user, _wheel, job = await setup(pool, csv_rows(50_000))
    seq_before = (await job_row(pool, job))["seq"]
    started = time.monotonic()
    assert await run_job(pool, job, limits=LoadLimits(chunk_rows=500)) == "completed"
    duration = time.monotonic() - started
    row = await job_row(pool, job)
    updates = row["seq"] - seq_before
    assert updates <= 10 * duration + 6, (updates, duration)
    assert updates >= 3


async def test_progress_never_goes_back_and_eta_is_given(pool):
    """Seen from another connection, progress only rises and a long import shows an ETA."""
    rows = [Activity(row_number=i + 2, name=f"A{i}", start=date(2025, 1, 1), end=date(2025, 1, 2))
            for i in range(6000)]
    _user, _wheel, job = await setup(pool)
    runner = asyncio.create_task(run_job(pool, job, limits=LoadLimits(chunk_rows=200),
                                         open_source=source_of(ListSource(rows, delay=0.0003))))
    seen, etas = [], []
    while not runner.done():
        row = await job_row(pool, job)
        seen.append(row["progress"])
        etas.append(row["eta_seconds"])
        await asyncio.sleep(0.01)
    assert await runner == "completed"
    assert seen == sorted(seen)
    assert any(eta is not None and eta > 0 for eta in etas)


async def test_completed_is_never_visible_without_its_items(pool):
    """A reader never sees `completed` before the items are there (one commit for both)."""
    _user, _wheel, job = await setup(pool, csv_rows(20_000))
    runner = asyncio.create_task(run_job(pool, job, limits=LoadLimits(chunk_rows=2000)))
    observations = []
    async with pool.connection() as conn:
        while True:
            row = await (await conn.execute(
                "SELECT j.status, (SELECT count(*) FROM items i WHERE i.wheel_id = j.wheel_id) AS n"
                " FROM import_jobs j WHERE j.id = %s", (job,))).fetchone()
            observations.append((row["status"], row["n"]))
            if row["status"] == "completed":
                break
            assert not runner.done() or runner.exception() is None
            await asyncio.sleep(0.001)
    await asyncio.wait_for(runner, 30)
    assert all(n == 0 for status, n in observations if status != "completed")
    assert all(n == 20_000 for status, n in observations if status == "completed")


@pytest.mark.parametrize("retry_left", [True, False], ids=["retry-left", "last-attempt"])
async def test_lost_data_connection_requeues_or_fails_on_the_last_attempt(pool, retry_left):
    """A transient database error rolls back: back to `pending` while a retry is left, else `failed`."""
    _user, wheel, job = await setup(pool)
    rows = [Activity(row_number=i + 2, name=f"A{i}", start=date(2025, 1, 1), end=date(2025, 1, 2))
            for i in range(20_000)]
    runner = asyncio.create_task(run_job(pool, job, will_retry=lambda exc: retry_left,
                                         limits=LoadLimits(chunk_rows=500),
                                         open_source=source_of(ListSource(rows, delay=0.0002))))
    await wait_for(pool, job, lambda r: r["processed_items"] > 0, within=30)
    async with pool.connection() as conn:
        await conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                           " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                           " AND backend_xid IS NOT NULL")
    with pytest.raises(psycopg.OperationalError):
        await asyncio.wait_for(runner, 30)
    row = await job_row(pool, job)
    if retry_left:
        assert (row["status"], row["attempts"], row["step"]) == ("pending", 1, "queued")
    else:
        assert (row["status"], row["error_code"]) == ("failed", "internal_error")
        assert row["finished_at"] is not None
    assert await count(pool, "items", wheel) == 0


async def test_unreadable_file_fails_at_once(pool):
    """A file that cannot be an import fails with the reader's error code and no retry."""
    _user, _wheel, job = await setup(pool, b"\x89PNG\r\n\x1a\nbinary")
    assert await run_job(pool, job, will_retry=lambda exc: True) == "failed"
    row = await job_row(pool, job)
    assert row["status"] == "failed" and row["error_code"] not in (None, "internal_error")


async def test_structured_json_import_uses_declared_structure(pool):
    """The JSON body form imports with its declared rings, groups and labels (and their colours)."""
    payload = {
        "importMode": "append", "fileName": "plan.json",
        "structure": {
            "rings": [{"id": "r1", "name": "Ekonomi", "type": "outer", "color": "#112233"}],
            "activityGroups": [{"id": "g1", "name": "Bokslut", "color": "#445566"}],
            "labels": [{"id": "l1", "name": "Anna", "color": "#778899"}],
        },
        "pages": [{"year": 2025, "items": [
            {"name": "Årsbokslut", "startDate": "2025-12-20", "endDate": "2026-01-10",
             "ringId": "r1", "activityId": "g1", "labelId": "l1"},
            {"name": "Deklaration", "startDate": "2025-05-02", "endDate": "2025-05-02",
             "ringId": "r1", "activityId": "g1"},
        ]}],
    }
    user = await make_user(pool)
    wheel = await make_wheel(pool, user)
    content = json.dumps(payload).encode()
    async with pool.connection() as conn, conn.transaction():
        file_row = await (await conn.execute(
            "INSERT INTO import_files (user_id, media_type, size_bytes, sha256, content)"
            " VALUES (%s, 'application/json', %s, sha256(%s), %s) RETURNING id",
            (user, len(content), content, content))).fetchone()
        job = (await (await conn.execute(
            "INSERT INTO import_jobs (user_id, wheel_id, file_id, file_name) VALUES (%s, %s, %s, 'plan.json')"
            " RETURNING id", (user, wheel, file_row["id"]))).fetchone())["id"]
    assert await run_job(pool, job) == "completed"
    after = await snapshot(pool, wheel)
    assert [(r["name"], r["color"]) for r in after["rings"]] == [("Ekonomi", "#112233")]
    assert [(g["name"], g["color"]) for g in after["groups"]] == [("Bokslut", "#445566")]
    assert [(lb["name"], lb["color"]) for lb in after["labels"]] == [("Anna", "#778899")]
    assert len(after["items"]) == 3 and len(after["pages"]) == 2


async def test_child_process_reader_reports_bad_files_and_rejections(pool):
    """Read in a child process, a bad file fails with its code and an all-rejected file with
    `no_valid_rows` and its stored reasons, as in a thread."""
    limits = LoadLimits(process_min_bytes=0)
    user, wheel, job = await setup(pool, b"\x89PNG\r\n\x1a\nbinary")
    assert await run_job(pool, job, limits=limits) == "failed"
    row = await job_row(pool, job)
    assert row["error_code"] not in (None, "internal_error")
    bad = b"Aktivitet,Startdatum\nA,inte ett datum\nB,ej heller\n"
    job2 = await make_job(pool, user, wheel, content=bad)
    assert await run_job(pool, job2, limits=limits) == "failed"
    row = await job_row(pool, job2)
    assert (row["error_code"], row["rejected_rows"]) == ("no_valid_rows", 2)
    async with pool.connection() as conn:
        stored = await (await conn.execute(
            "SELECT count(*) AS n FROM import_rejected_rows WHERE job_id = %s", (job2,))).fetchone()
    assert stored["n"] == 2


async def test_child_process_reader_imports_like_the_thread(pool):
    """The same file gives the same wheel whether it is read in a thread or a child process."""
    content = csv_rows(3000, cross_every=7)
    results = []
    for process_min_bytes in (0, 10**9):
        _user, wheel, job = await setup(pool, content)
        assert await run_job(pool, job, limits=LoadLimits(process_min_bytes=process_min_bytes,
                                                           chunk_rows=700)) == "completed"
        async with pool.connection() as conn:
            rows = await (await conn.execute(
                "SELECT i.name, i.start_date, i.end_date, r.name AS ring, g.name AS grp, l.name AS label,"
                " p.year, i.cross_year_group_id IS NOT NULL AS linked"
                " FROM items i JOIN wheel_rings r ON r.id = i.ring_id"
                " JOIN activity_groups g ON g.id = i.group_id LEFT JOIN labels l ON l.id = i.label_id"
                " JOIN wheel_pages p ON p.id = i.page_id WHERE i.wheel_id = %s ORDER BY 1, 2",
                (wheel,))).fetchall()
        results.append(rows)
    assert results[0] == results[1] and len(results[0]) > 3000


async def test_texts_with_copy_separators_round_trip(pool):
    """Names and descriptions holding tabs, newlines and backslashes arrive unchanged."""
    tricky = "a\tb\\c\nd\re \\N"
    rows = [Activity(row_number=2, name=tricky, start=date(2025, 1, 1), end=date(2025, 1, 1),
                     description=tricky, ring="R\\1", group="G\t1", label="L\n1")]
    _user, wheel, job = await setup(pool)
    assert await run_job(pool, job, open_source=source_of(ListSource(rows))) == "completed"
    async with pool.connection() as conn:
        row = await (await conn.execute(
            "SELECT name, description FROM items WHERE wheel_id = %s", (wheel,))).fetchone()
    assert row == {"name": tricky, "description": tricky}


async def test_reader_fetches_a_stored_file_in_slices_exactly(pool, db_url):
    """Slices of the stored bytes put together are the upload, byte for byte."""
    content = csv_rows(2000) + "åäö €\r\n".encode()
    _user, _wheel, job = await setup(pool, content)
    row = await job_row(pool, job)
    got = await asyncio.to_thread(read_stored_file, db_url, row["file_id"], len(content), slice_bytes=1000)
    assert got == content


async def test_two_imports_into_one_wheel_serialise(pool):
    """Two appends into one wheel at once both complete, the second reusing the first's parents."""
    def rows():
        return [Activity(row_number=i + 2, name=f"A{i}", start=date(2025, 1, 1), end=date(2025, 1, 2),
                         ring=f"Ring {i % 3}", group=f"Grupp {i % 5}", label=f"P{i % 2}")
                for i in range(3000)]
    user, wheel, job = await setup(pool)
    job2 = await make_job(pool, user, wheel, skip_duplicates=False)  # the same rows, kept twice
    slow = source_of(ListSource(rows(), delay=0.0002))
    first = asyncio.create_task(run_job(pool, job, open_source=slow, limits=LoadLimits(chunk_rows=300)))
    await wait_for(pool, job, lambda r: r["processed_items"] > 0, within=30)
    second = await asyncio.wait_for(run_job(pool, job2, open_source=source_of(ListSource(rows()))), 60)
    assert (await asyncio.wait_for(first, 60), second) == ("completed", "completed")
    after = await snapshot(pool, wheel)
    assert [len(after[k]) for k in ("rings", "groups", "labels", "pages", "items")] == [3, 5, 2, 1, 6000]


async def test_import_waiting_for_the_wheel_can_be_cancelled(pool):
    """An import queued behind another on the same wheel says so and can be cancelled while it waits."""
    rows = [Activity(row_number=i + 2, name=f"A{i}", start=date(2025, 1, 1), end=date(2025, 1, 2))
            for i in range(20_000)]
    user, wheel, job = await setup(pool)
    job2 = await make_job(pool, user, wheel)
    first = asyncio.create_task(run_job(pool, job, limits=LoadLimits(chunk_rows=500),
                                        open_source=source_of(ListSource(rows, delay=0.0005))))
    await wait_for(pool, job, lambda r: r["processed_items"] > 0, within=30)
    second = asyncio.create_task(run_job(pool, job2))
    await wait_for(pool, job2, lambda r: r["current_step"].startswith("Väntar på en annan import"), within=30)
    async with pool.connection() as conn:
        await conn.execute("UPDATE import_jobs SET status = 'cancelling' WHERE id = %s", (job2,))
    assert await asyncio.wait_for(second, 10) == "cancelled"
    assert not first.done()
    async with pool.connection() as conn:
        await conn.execute("UPDATE import_jobs SET status = 'cancelling' WHERE id = %s", (job,))
    assert await asyncio.wait_for(first, 30) == "cancelled"


async def test_notifications_walk_through_the_steps_in_order(db_url, pool):
    """A replace import notifies parsing, deleting, structure, items, finishing and done, with
    progress never going down, Swedish texts, and `completed` last."""
    user, wheel, job = await setup(pool, csv_rows(30))
    await run_job(pool, job)
    job2 = await make_job(pool, user, wheel, content=csv_rows(12_000), mode="replace")
    events = []
    async with await psycopg.AsyncConnection.connect(db_url, autocommit=True) as listener:
        await listener.execute("LISTEN import_jobs")
        runner = asyncio.create_task(run_job(pool, job2, limits=LoadLimits(chunk_rows=1000,
                                                                           progress_interval=0.0)))
        async def collect():
            async for note in listener.notifies():
                event = json.loads(note.payload)
                if event["id"] == str(job2):
                    events.append(event)
                    if event["status"] in ("completed", "failed", "cancelled"):
                        return
        await asyncio.wait_for(collect(), 60)
        assert await runner == "completed"
    steps = [e["step"] for e in events]
    order = ["parsing", "deleting", "rings", "items", "finishing", "done"]
    positions = [steps.index(s) for s in order]
    assert positions == sorted(positions), steps
    assert "Raderar befintlig data..." in [e["current_step"] for e in events]
    assert any(e["current_step"].startswith("Skapar 3 ringar") for e in events)
    assert any(e["current_step"].startswith("Aktivitet ") for e in events)
    progress = [e["progress"] for e in events]
    assert progress == sorted(progress) and progress[-1] == 100
    assert events[-1]["status"] == "completed" and events[-1]["current_step"] == "Import klar!"
    assert [e["seq"] for e in events] == sorted(e["seq"] for e in events)


async def test_dates_without_a_year_take_the_wheels_year(pool):
    """`3 maj` in a file imported into a 2026 wheel becomes 2026-05-03, not a rejection."""
    content = "Aktivitet;Datum\nMöte;3 maj\nBokslut;15 dec\n".encode()
    _user, wheel, job = await setup(pool, content)
    assert await run_job(pool, job) == "completed"
    async with pool.connection() as conn:
        rows = await (await conn.execute(
            "SELECT name, start_date::text AS d FROM items WHERE wheel_id = %s ORDER BY start_date",
            (wheel,))).fetchall()
    assert [(r["name"], r["d"]) for r in rows] == [("Möte", "2026-05-03"), ("Bokslut", "2026-12-15")]


async def test_created_counts_show_while_items_load_and_reset_on_failure(db_url, pool):
    """Mid-import notifications carry the rings and groups created so far; a failed job shows none."""
    import json

    import psycopg

    _user, _wheel, job = await setup(pool, csv_rows(30_000, rings=3, groups=39))
    listener = await psycopg.AsyncConnection.connect(db_url, autocommit=True)
    await listener.execute("LISTEN import_jobs")
    assert await run_job(pool, job) == "completed"
    seen = [json.loads(n.payload) async for n in listener.notifies(timeout=1.0)]
    await listener.close()
    loading = [p for p in seen if p["status"] == "processing" and p["step"] == "items"]
    assert loading, "expected progress notifications while items loaded"
    assert all(p["counts"]["rings"] == 3 and p["counts"]["groups"] == 39 for p in loading)
    assert loading[-1]["counts"]["items"] > 0

    _user, _wheel, bad = await setup(pool, b"Aktivitet,Startdatum\n,2026-01-01\n")
    assert await run_job(pool, bad) == "failed"
    row = await job_row(pool, bad)
    assert (row["created_rings"], row["created_groups"], row["created_items"]) == (0, 0, 0)


async def test_the_readers_warnings_are_on_the_job_with_their_messages(pool):
    """What the source warns about reaches the job row as {code, message, details} once the file
    is opened, and what only the whole file shows (a long item) is added at completion."""
    rows = [Activity(row_number=2, name="Lång", start=date(2025, 1, 1), end=date(2025, 12, 31))]
    source = ListSource(rows)
    source.warnings = (JobWarning(code="encoding_repaired", details={"bytes": 3, "rows": 1}),)
    _user, _wheel, job = await setup(pool)
    assert await run_job(pool, job, open_source=source_of(source)) == "completed"
    row = await job_row(pool, job)
    assert row["warnings"] == [
        {"code": "encoding_repaired", "details": {"bytes": 3, "rows": 1},
         "message": "3 byte var inte giltig text i filens teckenkodning och ersattes (på 1 rader)."},
        {"code": "long_items", "details": {"count": 1, "days": 300},
         "message": "1 aktiviteter är längre än 300 dagar."}]
    async with pool.connection() as conn:
        shown = (await (await conn.execute("SELECT import_job_json_v2(j) AS job FROM import_jobs j WHERE id = %s",
                                           (job,))).fetchone())["job"]
    assert shown["warnings"] == row["warnings"] and shown["counts"]["skipped_duplicates"] == 0


async def test_a_file_imported_twice_leaves_the_wheel_unchanged_and_counts_the_duplicates(pool):
    """In append mode the second import of the same file skips every item the wheel already has
    (name ignoring case and space, dates, ring, group), counts them and warns; a new row goes in."""
    user = await make_user(pool)
    wheel = await make_wheel(pool, user)
    first = csv_rows(40)
    await run_job(pool, await make_job(pool, user, wheel, content=first))
    before = await snapshot(pool, wheel)
    again = await make_job(pool, user, wheel, content=first)
    assert await run_job(pool, again) == "completed"
    assert await snapshot(pool, wheel) == before
    row = await job_row(pool, again)
    assert (row["created_items"], row["skipped_duplicates"]) == (0, 40)
    assert [w["code"] for w in row["warnings"]] == ["duplicate_items"]
    assert row["warnings"][0]["details"] == {"count": 40, "skipped": True}
    assert "40 aktiviteter fanns redan i årshjulet och hoppades över" in row["warnings"][0]["message"]
    with_new = first + ("  AKTIVITET 0 ,2025-01-01,2025-01-01,Ring 0,Grupp 0,,\n"
                        "Nytt möte,2026-05-05,,Ekonomi,Möte,,\n").encode()
    third = await make_job(pool, user, wheel, content=with_new)
    assert await run_job(pool, third) == "completed"
    row = await job_row(pool, third)
    assert (row["created_items"], row["skipped_duplicates"]) == (1, 41)


async def test_duplicates_are_kept_and_counted_when_the_import_asks_for_them(pool):
    """skip_duplicates = false imports the items again and still warns how many were there."""
    user = await make_user(pool)
    wheel = await make_wheel(pool, user)
    content = csv_rows(15)
    await run_job(pool, await make_job(pool, user, wheel, content=content))
    again = await make_job(pool, user, wheel, content=content, skip_duplicates=False)
    assert await run_job(pool, again) == "completed"
    row = await job_row(pool, again)
    assert (row["created_items"], row["skipped_duplicates"]) == (15, 0)
    assert row["warnings"][0]["details"] == {"count": 15, "skipped": False}
    assert await count(pool, "items", wheel) == 30
