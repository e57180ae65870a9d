"""Prometheus metrics: what lives in the database, read at scrape time, and per-process ones."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import prometheus_client
import psycopg
from procrastinate.job_context import JobContext
from procrastinate.middleware import AsyncCallNext
from procrastinate.worker import Worker
from prometheus_client import Gauge, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from psycopg.rows import DictRow, dict_row

from importer.model import JobStatus
from importer.queries import q

log = logging.getLogger(__name__)

DURATION_BOUNDS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 900.0)
RATE_BOUNDS = (100.0, 500.0, 1000.0, 5000.0, 10_000.0, 25_000.0, 50_000.0, 100_000.0, 250_000.0, 500_000.0)

# Per worker process: the tasks it runs (served by `importer worker --metrics-port`).
TASKS_RUNNING = Gauge("importer_worker_tasks_running", "Tasks this worker process runs now", ["task"])
TASK_DURATION = Histogram(
    "importer_worker_task_duration_seconds", "Run time of tasks in this worker process, by outcome",
    ["task", "outcome"], buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0))


async def task_metrics_middleware(call_next: AsyncCallNext, context: JobContext, worker: Worker) -> Any:
    """Procrastinate worker middleware: tasks running and their run time, in this process."""
    task = context.job.task_name
    started = time.monotonic()
    outcome = "error"
    TASKS_RUNNING.labels(task).inc()
    try:
        result = await call_next()
        outcome = "success"
        return result
    finally:
        TASKS_RUNNING.labels(task).dec()
        TASK_DURATION.labels(task, outcome).observe(time.monotonic() - started)


def serve_worker_metrics(port: int, conninfo: str, *, queues: Iterable[str] = (),
                         addr: str = "127.0.0.1") -> None:
    """`importer worker --metrics-port`: this process' metrics and the database's, over HTTP."""
    prometheus_client.REGISTRY.register(DatabaseCollector(conninfo, queues=queues))
    prometheus_client.start_http_server(port, addr=addr)
    log.info("worker metrics on http://%s:%d/metrics", addr, port)


def _histogram(name: str, doc: str, bounds: Sequence[float], rows: list[list[Any]]) -> HistogramMetricFamily:
    """From width_bucket counts (bucket i holds values in [bounds[i-1], bounds[i])) to `le` buckets."""
    per_index = [0] * (len(bounds) + 1)
    total = 0.0
    for index, n, value_sum in rows:
        per_index[int(index)] += int(n)
        total += float(value_sum or 0)
    buckets, cumulative = [], 0
    for k, bound in enumerate(bounds):
        cumulative += per_index[k]
        buckets.append((repr(float(bound)), cumulative))
    buckets.append(("+Inf", cumulative + per_index[-1]))
    return HistogramMetricFamily(name, doc, buckets=buckets, sum_value=total)


class DatabaseCollector(Collector):
    """Jobs by status, queue depth and age, e-mails, import durations and rows/s, from one query.

    Runs at scrape time (prometheus_client calls collect() from the scraping thread) on its own
    small synchronous connection with a statement timeout, so a slow database cannot hang a
    scrape; the snapshot is cached for `ttl` seconds, so many scrapers cost one query. Values
    count what is retained (IMPORTER_RETENTION_DAYS): a purge looks like a counter reset.
    """

    def __init__(self, conninfo: str, *, queues: Iterable[str] = (), ttl: float = 2.0,
                 timeout_ms: int = 2000):
        self._conninfo = conninfo
        # Queues always reported, at 0 when empty (importer.jobs.app.queue_names()).
        self._queues = frozenset(queues)
        self._ttl = ttl
        self._timeout_ms = timeout_ms
        self._lock = threading.Lock()
        self._conn: psycopg.Connection[DictRow] | None = None
        self._snapshot: dict[str, Any] | None = None
        self._taken = 0.0

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def _read(self) -> dict[str, Any] | None:
        with self._lock:
            if self._snapshot is not None and time.monotonic() - self._taken < self._ttl:
                return self._snapshot
            try:
                if self._conn is None or self._conn.closed:
                    self._conn = psycopg.connect(
                        self._conninfo, autocommit=True, row_factory=dict_row, connect_timeout=2,
                        application_name="importer-metrics", options=f"-c statement_timeout={self._timeout_ms}")
                self._snapshot = self._conn.execute(q("metrics_snapshot"), {
                    "duration_bounds": list(DURATION_BOUNDS), "rate_bounds": list(RATE_BOUNDS)}).fetchone()
                self._taken = time.monotonic()
            except psycopg.Error as exc:
                log.warning("metrics: the database did not answer: %r", exc)
                if self._conn is not None:
                    self._conn.close()
                self._conn = None
                self._snapshot = None
            return self._snapshot

    def describe(self) -> Iterator[Metric]:
        return iter(())  # collected lazily: registering must not query the database

    def collect(self) -> Iterator[Metric]:
        snap = self._read()
        up = GaugeMetricFamily("importer_metrics_database_up", "1 if the metrics query answered")
        up.add_metric([], 1 if snap else 0)
        yield up
        if snap is None:
            return
        jobs = GaugeMetricFamily("importer_jobs", "Import jobs by status (retained ones)", labels=["status"])
        for status in JobStatus:
            jobs.add_metric([status], snap["jobs_by_status"].get(status, 0))
        yield jobs
        depth = GaugeMetricFamily("importer_queue_depth", "Procrastinate jobs ready to run, by queue",
                                  labels=["queue"])
        age = GaugeMetricFamily("importer_queue_oldest_pending_seconds",
                                "Age of the oldest job ready to run, by queue", labels=["queue"])
        queues = snap["queues"]
        for queue in sorted({*self._queues, *queues}):
            entry = queues.get(queue, {})
            depth.add_metric([queue], entry.get("depth", 0))
            age.add_metric([queue], float(entry.get("oldest_seconds") or 0))
        yield depth
        yield age
        emails = CounterMetricFamily("importer_emails", "Completion e-mails by outcome (retained jobs)",
                                     labels=["status"])
        for outcome in ("sent", "failed"):
            emails.add_metric([outcome], snap["emails_by_status"].get(outcome, 0))
        yield emails
        queued = GaugeMetricFamily("importer_emails_queued", "Completion e-mails not sent yet")
        queued.add_metric([], snap["emails_by_status"].get("queued", 0))
        yield queued
        yield _histogram("importer_import_duration_seconds", "Run time of completed imports (last attempt)",
                         DURATION_BOUNDS, snap["durations"])
        yield _histogram("importer_import_rows_per_second", "Rows per second of completed imports",
                         RATE_BOUNDS, snap["rates"])
