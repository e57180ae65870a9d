"""Preview latency: one `importer serve` process answering `POST /api/wheels/{id}/previews`.

    .venv/bin/python bench/preview_latency.py
    .venv/bin/python bench/preview_latency.py --small 20 --large 3 --rows 200000 --concurrent 5
    .venv/bin/python bench/preview_latency.py --breakdown      # also where a large preview's time goes
    .venv/bin/python bench/preview_latency.py --async-commit   # diagnostic: without the commits' WAL flush

Prints, measured on the client from sending the request to having read the 201:
  1,929 rows      a preview of the bundled example (importer/examples/aktiviteter.csv),
                  p50 of --small previews after two uncounted ones (target < 150 ms)
  200,000 rows    a preview of --rows generated rows (bench/import_throughput.py's file),
                  each of --large previews and their median (target < 2 s), and whether the
                  preview was `sampled` (the file did not fit the preview's time budget)
  submit p99      submit-to-202 of small CSVs (10 clients, one user each, 100 ms mean think
                  time), alone and while --concurrent previews of --rows rows run (target
                  < 25 ms): a preview must not stall the server's other requests. The previews
                  are sent by another process, so that the bench does not time its own stalls
  /healthz        the same, for a request that needs no database: whether a slow submit
                  waited for the server process or for Postgres
  breakdown       with --breakdown, where a large preview's time goes: the upload and its
                  storage, and the child's steps (read the stored bytes back, open the source,
                  review, duplicates, describe) timed in this process against the same database

DATABASE_URL: a server on which the bench creates (and drops) its own database; unset, it starts
an embedded Postgres in a temporary directory. Client, server, its preview children and Postgres
share the machine, so the figures include the client's own CPU time.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import multiprocessing.queues
import os
import queue
import random
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.import_throughput import generate_csv  # noqa: E402
from bench.submit_latency import CSV, api_server, bench_database, percentile  # noqa: E402
from importer import tokens  # noqa: E402

SECRET = "bench-secret-" + "0123456789" * 4
EXAMPLE = ROOT / "importer" / "examples" / "aktiviteter.csv"


class Client:
    """One user of the bench's server with a wheel of their own."""

    def __init__(self, session: aiohttp.ClientSession, base: str):
        self.session, self.base = session, base
        self.auth = {"Authorization": f"Bearer {tokens.mint(SECRET, uuid.uuid4(), ttl=3600)}"}
        self.wheel = ""

    async def make_wheel(self) -> Client:
        async with self.session.post(f"{self.base}/api/wheels", json={"title": "Bench", "year": 2025},
                                     headers=self.auth) as resp:
            self.wheel = (await resp.json())["id"]
        return self

    async def post_csv(self, route: str, body: bytes, file_name: str, expect: int) -> tuple[float, Any]:
        """Seconds from sending the CSV to having read the answer, and the answer."""
        started = time.perf_counter()
        async with self.session.post(f"{self.base}/api/wheels/{self.wheel}/{route}", data=body,
                                     params={"file_name": file_name},
                                     headers={**self.auth, "Content-Type": "text/csv"}) as resp:
            answer = await resp.json()
        elapsed = time.perf_counter() - started
        if resp.status != expect:
            raise SystemExit(f"{route} answered {resp.status}: {answer}")
        return elapsed, answer

    async def preview(self, body: bytes, file_name: str) -> tuple[float, dict[str, Any]]:
        return await self.post_csv("previews", body, file_name, 201)


async def submitters(session: aiohttp.ClientSession, base: str, clients: int, think: float,
                     stop: asyncio.Event) -> list[float]:
    """Submit-to-202 times of `clients` users submitting small CSVs until `stop` is set."""
    users = await asyncio.gather(*(Client(session, base).make_wheel() for _ in range(clients)))
    timings: list[float] = []

    async def one(user: Client) -> None:
        i = 0
        while not stop.is_set():
            await asyncio.sleep(random.expovariate(1 / think))
            elapsed, _ = await user.post_csv("imports", CSV.encode(), f"plan-{i}.csv", 202)
            timings.append(elapsed)
            i += 1

    await asyncio.gather(*(one(u) for u in users))
    return timings


async def prober(session: aiohttp.ClientSession, base: str, stop: asyncio.Event) -> list[float]:
    """`GET /healthz` times every 20 ms until `stop`: no database, so a slow answer is the server
    process itself (its event loop busy, or no core free for it), not Postgres."""
    timings: list[float] = []
    while not stop.is_set():
        started = time.perf_counter()
        async with session.get(f"{base}/healthz") as resp:
            await resp.read()
        timings.append(time.perf_counter() - started)
        await asyncio.sleep(0.02)
    return timings


def burst(base: str, body: bytes, n: int, out: multiprocessing.queues.Queue) -> None:  # type: ignore[type-arg]
    """In a process of its own: `n` previews of `body` at once, each by its own user; their times."""

    async def go() -> list[float]:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as session:
            users = await asyncio.gather(*(Client(session, base).make_wheel() for _ in range(n)))
            return [t for t, _ in await asyncio.gather(*(u.preview(body, "stor.csv") for u in users))]

    out.put(asyncio.run(go()))


def burst_in_a_process(base: str, body: bytes, n: int) -> list[float]:
    """The previews are sent from another process: sending 5 bodies of 16 MB would otherwise stall
    the event loop that times the submits, and the bench would measure itself."""
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    proc = ctx.Process(target=burst, args=(base, body, n, out))
    proc.start()
    deadline = time.monotonic() + 300
    try:
        while True:
            try:
                times: list[float] = out.get(timeout=1)
                return times
            except queue.Empty:
                if not proc.is_alive():
                    raise SystemExit(f"the previews' process ended with {proc.exitcode}") from None
                if time.monotonic() > deadline:
                    raise SystemExit("the previews took more than 300 s") from None
    finally:
        if proc.is_alive():
            proc.terminate()
        proc.join(timeout=30)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def summary(values: list[float]) -> str:
    if not values:
        return "no requests"
    return (f"p50 {ms(percentile(values, 0.5))}   p90 {ms(percentile(values, 0.9))}   "
            f"p99 {ms(percentile(values, 0.99))}   max {ms(max(values))}   n={len(values)}")


async def run(base: str, args: argparse.Namespace) -> None:
    example = EXAMPLE.read_bytes()
    large = generate_csv(args.rows)
    connector = aiohttp.TCPConnector(limit=100)
    timeout = aiohttp.ClientTimeout(total=600)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        user = await Client(session, base).make_wheel()

        for _ in range(2):  # warm-up: the children's first imports, the pool's connections
            await user.preview(example, "aktiviteter.csv")
        small = [(await user.preview(example, "aktiviteter.csv"))[0] for _ in range(args.small)]
        _, shown = await user.preview(example, "aktiviteter.csv")
        counts = shown["counts"]
        print(f"1,929-row preview ({len(example):,} bytes, {counts['rows']} rows -> {counts['items']} items, "
              f"{counts['rejected']} rejected), {args.small} in a row:")
        print(f"  {summary(small)}   target p50 < 150 ms")

        big: list[float] = []
        for _ in range(args.large):
            elapsed, preview = await user.preview(large, "stor.csv")
            big.append(elapsed)
        c = preview["counts"]
        print(f"{args.rows:,}-row preview ({len(large) / 1e6:.1f} MB), {args.large} in a row: "
              f"{', '.join(ms(t) for t in big)}   median {ms(statistics.median(big))}   target < 2 s")
        print(f"  sampled={preview['sampled']} rows={c['rows']:,} items={c['items']:,} "
              f"rejected={c['rejected']} split={c['split_items']:,}")

        stop = asyncio.Event()
        alone_task = asyncio.create_task(submitters(session, base, args.clients, args.think_ms / 1000, stop))
        alone_probe = asyncio.create_task(prober(session, base, stop))
        await asyncio.sleep(args.alone_seconds)
        stop.set()
        alone, alone_health = await alone_task, await alone_probe

        stop = asyncio.Event()
        during_task = asyncio.create_task(submitters(session, base, args.clients, args.think_ms / 1000, stop))
        during_probe = asyncio.create_task(prober(session, base, stop))
        await asyncio.sleep(0.5)  # the submitters have their wheels and are submitting
        started = time.perf_counter()
        each = await asyncio.to_thread(burst_in_a_process, base, large, args.concurrent)
        window = time.perf_counter() - started
        stop.set()
        during, during_health = await during_task, await during_probe
        print(f"submit-to-202 of a {len(CSV.encode())}-byte CSV, {args.clients} clients, think time "
              f"{args.think_ms:g} ms:")
        print(f"  alone ({args.alone_seconds:g} s):          {summary(alone)}")
        print(f"  during {args.concurrent} previews of {args.rows:,} rows ({window:.1f} s; each answered in "
              f"{', '.join(f'{t:.1f}' for t in each)} s): {summary(during)}   target p99 < 25 ms")
        print("GET /healthz every 20 ms meanwhile (no database: the server process alone):")
        print(f"  alone:   {summary(alone_health)}")
        print(f"  during:  {summary(during_health)}")


def breakdown(db_url: str, content: bytes) -> None:
    """Where one large preview's time goes, step by step, as the preview's child runs it."""
    from importer.load.readers import read_stored_file
    from importer.model import Existing
    from importer.previews import plan
    from importer.read.preview import review
    from importer.read.sources import open_source

    with psycopg.connect(db_url, autocommit=True) as conn:
        user_id, wheel_id = conn.execute(
            "SELECT user_id, wheel_id FROM import_previews ORDER BY created_at DESC LIMIT 1").fetchone()
        started = time.perf_counter()
        file_id = conn.execute(
            "INSERT INTO import_files (id, user_id, sha256, media_type, size_bytes, content)"
            " VALUES (gen_random_uuid(), %s, '\\x00', 'text/csv', %s, %s) RETURNING id",
            (user_id, len(content), content)).fetchone()[0]
        stored = time.perf_counter() - started
    steps: dict[str, float] = {"store the upload (one INSERT)": stored}

    def timed(name: str, fn: Any, *a: Any, **kw: Any) -> Any:
        t = time.perf_counter()
        value = fn(*a, **kw)
        steps[name] = time.perf_counter() - t
        return value

    data = timed("read the stored bytes back", read_stored_file, db_url, file_id, len(content))
    source = timed("open_source (sniff, header, columns)", open_source, "text/csv", data, "stor.csv", None,
                   default_year=2025, sheet=None, date_order=None)
    existing = Existing(rings={}, groups={}, labels={}, pages={}, max_ring_order=0, max_page_order=0)
    result = timed("review (read, validate, plan every row)", review, source, existing,
                   budget_seconds=plan.BUDGET_SECONDS)
    dups = timed("count_duplicates (one statement)", plan.count_duplicates, db_url, wheel_id,
                 result.duplicate_keys)
    timed("describe (the preview object)", plan.describe, source, result, dups, size_bytes=len(content))
    print(f"where a {len(content) / 1e6:.1f} MB preview's time goes (this process, not the server's child):")
    for name, seconds in steps.items():
        print(f"  {name:42s} {ms(seconds):>9s}")
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("DELETE FROM import_files WHERE id = %s", (file_id,))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=20, help="previews of the 1,929-row example measured")
    parser.add_argument("--large", type=int, default=3, help="previews of --rows rows measured one after another")
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--concurrent", type=int, default=5, help="previews of --rows rows run at once")
    parser.add_argument("--clients", type=int, default=10, help="users submitting small CSVs meanwhile")
    parser.add_argument("--think-ms", type=float, default=100.0, help="mean pause of a submitter between submits")
    parser.add_argument("--alone-seconds", type=float, default=5.0,
                        help="how long the submitters run alone first (the baseline)")
    parser.add_argument("--breakdown", action="store_true", help="also time a large preview's steps one by one")
    parser.add_argument("--async-commit", action="store_true",
                        help="diagnostic only: synchronous_commit=off on the bench database, to see how much of a "
                             "submit's wait is its commit's WAL flush queued behind the previews' stored uploads")
    args = parser.parse_args()

    # Every preview's file is kept for a day, hence the raised storage quota.
    with bench_database("bench-preview", async_commit=args.async_commit) as db_url, \
            api_server(db_url, "bench-preview", IMPORTER_MAX_STORED_BYTES_PER_USER=str(1 << 40)) as (base, _proc):
        print(f"{os.cpu_count()} CPUs shared by client, server, its preview children and Postgres "
              f"(load average {os.getloadavg()[0]:.1f} before)")
        asyncio.run(run(base, args))
        if args.breakdown:
            breakdown(db_url, generate_csv(args.rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
