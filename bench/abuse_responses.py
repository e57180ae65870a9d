"""Scenarios of bench/abuse.py for large responses (issue 17, finding 2): every item of a
1 M-item wheel, page after page, and the errors.csv of a job with 200,000 stored rejections.

Both seed their rows in SQL straight into the bench database (seconds, not an import's
minutes), then measure only the requests.
"""

from __future__ import annotations

import uuid

import aiohttp
import psycopg

from bench.abuse_harness import Run, Scenario

ITEMS = 1_000_000
REJECTIONS = 200_000
PAGE_LIMIT = 10_000  # the route's largest page (API.md): the fewest requests
CSV = "Aktivitet;Startdatum;Slutdatum;Område\nMöte;2026-01-10;2026-01-10;Ekonomi\n"

SEED_ITEMS = """
WITH r AS (INSERT INTO wheel_rings (wheel_id, name, ring_order) VALUES (%(w)s, 'Ekonomi', 0) RETURNING id),
     g AS (INSERT INTO activity_groups (wheel_id, name, color) VALUES (%(w)s, 'Möten', '#336699') RETURNING id),
     l AS (INSERT INTO labels (wheel_id, name, color) VALUES (%(w)s, 'Styrelsen', '#993366') RETURNING id),
     p AS (INSERT INTO wheel_pages (wheel_id, year, page_order)
           SELECT %(w)s, 2020 + k, k + 1 FROM generate_series(0, 9) k RETURNING id, year)
INSERT INTO items (wheel_id, page_id, ring_id, group_id, label_id, name, start_date, end_date, description)
SELECT %(w)s, p.id, (SELECT id FROM r), (SELECT id FROM g), CASE WHEN n %% 3 = 0 THEN (SELECT id FROM l) END,
       'Aktivitet nummer ' || n, d, d + (n %% 5),
       'Beskrivning av aktivitet ' || n || ' med lite text, som en riktig planering har'
FROM generate_series(0, %(n)s - 1) n
CROSS JOIN LATERAL (SELECT date '2020-01-01' + (n %% 3650) AS d) day
JOIN p ON p.year = extract(year FROM day.d)::integer
"""

SEED_REJECTIONS = """
WITH job AS (UPDATE import_jobs
                SET headers = ARRAY['Aktivitet', 'Startdatum', 'Slutdatum', 'Område', 'Kategori', 'Beskrivning'],
                    rejected_rows = %(n)s
              WHERE id = %(job)s RETURNING id)
INSERT INTO import_rejected_rows (job_id, row_number, column_name, reason, raw_values)
SELECT (SELECT id FROM job), n + 1, 'Startdatum',
       'Datumet "2026-13-' || (n %% 40) || '" går inte att läsa som ett datum',
       ARRAY['Möte med styrelsen om budgeten, nummer ' || n, '2026-13-' || (n %% 40), '2026-12-31',
             'Ekonomi och administration', CASE WHEN n %% 7 = 0 THEN '=SUMMA(A1:A9)' ELSE 'Styrelsemöten' END,
             'Genomgång av "utfall"; prognos och beslut om nästa års ramar för alla avdelningar, '
             || 'med underlag som skickas ut en vecka innan, rad ' || n]
FROM generate_series(1, %(n)s) n
"""


async def _wheel(session: aiohttp.ClientSession, run: Run, user: uuid.UUID) -> str:
    async with session.post(f"{run.base}/api/wheels", json={"title": "Abuse", "year": 2026},
                            headers=run.headers(user)) as resp:
        assert resp.status == 201, await resp.text()
        wheel: str = (await resp.json())["id"]
    return wheel


async def items_of_a_big_wheel(run: Run) -> str:
    """Every item of a 1 M-item wheel, following `next` from the first page to the last."""
    user = uuid.uuid4()
    timeout = aiohttp.ClientTimeout(total=None, sock_read=300)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        wheel = await _wheel(session, run, user)
        async with await psycopg.AsyncConnection.connect(run.db_url, autocommit=True) as conn:
            await conn.execute(SEED_ITEMS, {"w": wheel, "n": ITEMS})
            await conn.execute("ANALYZE items")
        seen, pages, received, after, last = 0, 0, 0, None, ("", "")
        async with run.measure():
            while True:
                params = {"limit": str(PAGE_LIMIT), **({"after": after} if after else {})}
                async with session.get(f"{run.base}/api/wheels/{wheel}/items", params=params,
                                       headers=run.headers(user)) as resp:
                    assert resp.status == 200, await resp.text()
                    raw = await resp.read()
                    received += len(raw)
                    body = await resp.json()
                for item in body["items"]:
                    key = (item["start_date"], item["name"])
                    assert key[0] >= last[0], "items out of start-date order"
                    last = key
                seen += len(body["items"])
                pages += 1
                after = body.get("next")
                if not after:
                    break
    assert seen == ITEMS, f"{seen} items seen of {ITEMS}"
    return f"{seen:,} items in {pages} responses, {received / 2**20:.0f} MB"


async def errors_csv_of_many_rejections(run: Run) -> str:
    """errors.csv of a job with 200,000 stored rejected rows, read as it comes."""
    user = uuid.uuid4()
    timeout = aiohttp.ClientTimeout(total=None, sock_read=300)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        wheel = await _wheel(session, run, user)
        async with session.post(f"{run.base}/api/wheels/{wheel}/imports", data=CSV.encode(),
                                params={"file_name": "abuse.csv"},
                                headers={**run.headers(user), "Content-Type": "text/csv"}) as resp:
            assert resp.status == 202, await resp.text()
            job = (await resp.json())["id"]
        async with await psycopg.AsyncConnection.connect(run.db_url, autocommit=True) as conn:
            await conn.execute(SEED_REJECTIONS, {"job": job, "n": REJECTIONS})
        size = lines = 0
        async with run.measure():
            async with session.get(f"{run.base}/api/imports/{job}/errors.csv", headers=run.headers(user)) as resp:
                assert resp.status == 200, await resp.text()
                async for chunk in resp.content.iter_chunked(1 << 16):
                    size += len(chunk)
                    lines += chunk.count(b"\n")  # no value has a line break
    assert lines == REJECTIONS + 1, f"{lines} lines for {REJECTIONS} rejections"
    return f"{REJECTIONS:,} rows, {size / 2**20:.1f} MB"


SCENARIOS = [
    Scenario("items of a 1 M-item wheel", items_of_a_big_wheel),
    # 200,000 stored rejections need the operator's cap raised above its default (10,000).
    Scenario("errors.csv of 200,000 rejections", errors_csv_of_many_rejections,
             env={"IMPORTER_MAX_STORED_REJECTIONS": str(REJECTIONS)}),
]
