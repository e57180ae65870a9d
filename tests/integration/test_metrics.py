"""/metrics over real HTTP on a real database: the database's state and the process' own, parseable."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families

from server.app import create_app
from tests.acceptance.api.support import bearer, make_settings
from tests.factories import make_job, make_user, make_wheel

pytestmark = pytest.mark.timeout(60)


async def scrape(client) -> dict[tuple[str, tuple], float]:
    resp = await client.get("/metrics")
    assert resp.status == 200
    assert resp.headers["Content-Type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(await resp.text()):
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return samples


async def test_metrics_show_jobs_queues_emails_durations_streams_and_lag(pool, db_url, aiohttp_client):
    """Jobs by status, queue depth and age, e-mails, durations, rows/s, SSE clients and NOTIFY lag are exposed."""
    user = await make_user(pool)
    wheel = await make_wheel(pool, user)
    now = datetime.now(UTC)
    for seconds, rows in ((0.3, 1000), (4.0, 90_000)):
        await make_job(pool, user, wheel, status="completed", progress=100, step="done", processed_items=rows,
                       started_at=now - timedelta(seconds=seconds), finished_at=now)
    failed = await make_job(pool, user, wheel, status="failed", error_code="no_valid_rows", finished_at=now)
    pending = await make_job(pool, user, wheel)
    async with pool.connection() as conn:
        await conn.execute("INSERT INTO import_emails (job_id, kind, recipient, status, last_error)"
                           " VALUES (%s, 'failure', 'a@example.test', 'failed', 'smtp down')", (failed,))
        pj = (await (await conn.execute(
            "INSERT INTO procrastinate_jobs (queue_name, task_name, args) VALUES ('imports', 'run_import', '{}')"
            " RETURNING id")).fetchone())["id"]
        await conn.execute("UPDATE procrastinate_events SET at = now() - interval '90 seconds' WHERE job_id = %s",
                           (pj,))

    client = await aiohttp_client(create_app(make_settings(db_url)))
    m = await scrape(client)

    assert m[("importer_metrics_database_up", ())] == 1
    assert m[("importer_jobs", (("status", "completed"),))] == 2
    assert m[("importer_jobs", (("status", "failed"),))] == 1
    assert m[("importer_jobs", (("status", "pending"),))] == 1
    assert m[("importer_jobs", (("status", "cancelled"),))] == 0
    assert m[("importer_queue_depth", (("queue", "imports"),))] == 1
    assert m[("importer_queue_oldest_pending_seconds", (("queue", "imports"),))] >= 89
    assert m[("importer_emails_total", (("status", "failed"),))] == 1
    assert m[("importer_emails_total", (("status", "sent"),))] == 0
    assert m[("importer_import_duration_seconds_count", ())] == 2
    assert m[("importer_import_duration_seconds_bucket", (("le", "0.5"),))] == 1
    assert m[("importer_import_duration_seconds_bucket", (("le", "5.0"),))] == 2
    assert 4.2 <= m[("importer_import_duration_seconds_sum", ())] <= 4.4
    assert m[("importer_import_rows_per_second_bucket", (("le", "5000.0"),))] == 1  # 3,333 rows/s
    assert m[("importer_import_rows_per_second_bucket", (("le", "25000.0"),))] == 2  # 22,500 rows/s
    assert m[("importer_sse_clients", ())] == 0
    assert m[("importer_sse_clients_dropped_total", ())] == 0
    assert m[("importer_hub_reconnects_total", ())] == 0
    # The lag histogram is the process's: other tests of the run (one that ends jobs dated days
    # ago, say) have observed into it already, so this test looks at what its own end adds.
    ended = ("importer_notification_lag_seconds_count", (("event", "ended"),))
    ended_sum = ("importer_notification_lag_seconds_sum", (("event", "ended"),))
    lag_before, sum_before = m.get(ended, 0), m.get(ended_sum, 0.0)

    # A stream open on the pending job counts as a client; its end is notified to the hub.
    headers = bearer(user)
    resp = await client.get(f"/api/imports/{pending}/events", headers=headers)
    assert resp.status == 200
    await asyncio.wait_for(resp.content.readuntil(b"\r\n\r\n"), 5)  # retry: frame
    m = await scrape(client)
    assert m[("importer_sse_clients", ())] == 1
    async with pool.connection() as conn:
        await conn.execute("UPDATE import_jobs SET status = 'cancelled', finished_at = clock_timestamp()"
                           " WHERE id = %s", (pending,))
    body = b""
    async with asyncio.timeout(10):
        while b"event: cancelled" not in body:
            body += await resp.content.readany()
    resp.close()
    m = await scrape(client)
    assert m[ended] >= lag_before + 1
    # Under 5 s on average from the UPDATE to the hub.
    assert m[ended_sum] - sum_before < 5 * (m[ended] - lag_before)


async def test_metrics_say_database_down_instead_of_failing(db_url, aiohttp_client):
    """A collector whose database does not answer reports importer_metrics_database_up 0, and /metrics still answers."""
    from prometheus_client import CollectorRegistry, generate_latest

    from importer.metrics import DatabaseCollector

    registry = CollectorRegistry()
    registry.register(DatabaseCollector("postgresql://nobody@127.0.0.1:1/none"))
    text = generate_latest(registry).decode()
    samples = {s.name: s.value for f in text_string_to_metric_families(text) for s in f.samples}
    assert samples == {"importer_metrics_database_up": 0}
