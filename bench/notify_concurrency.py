"""What Postgres' commit-time NOTIFY lock costs: items/s with 1, 4, 16 and 64 imports at once.

Every progress write of an import is a transaction that NOTIFYs (the import_jobs trigger), and
Postgres serialises the commits of such transactions (one global lock, to keep the notification
queue in commit order). This bench runs the same imports with progress notifications as in
production and with them switched off (IMPORTER_BENCH_PROGRESS_NOTIFY=off, a bench-only switch:
schema/0016; status changes still notify), and prints for each level of concurrency:

  items/s       all items of the level / (last finished_at - first started_at), job rows' times
  writes/job    progress updates per job (the job row's seq at its end)
  loss          1 - (items/s with NOTIFY) / (items/s without), per round and as the median

and then the lock's own ceiling, without the imports around it: 1, 4, 16 and 64 connections
each writing its own job row's progress as fast as it can (one autocommit UPDATE per write, as
the worker's progress writes are), with the NOTIFY and with the bench switch set on the
connection, alternating for `--ceiling-seconds` each, with durable commits and with unflushed ones
(synchronous_commit off, as the worker's progress writes commit): commits/s and the loss. Postgres
holds the NOTIFY lock through a commit's WAL flush, so durable NOTIFYing commits are serialised
one flush at a time. That says how many
NOTIFYing progress commits per second the lock allows before it costs anything, to be put
against how many the imports above made (writes/job x imports / their time).

Starts one `importer serve` and `--workers` `importer worker` processes of `--concurrency` each
(bench/load.py's process handling), anew for each mode, on a database of its own; the modes
alternate within each of `--rounds` rounds, since the machine may be shared. Each level submits
`--level-rows` rows in all, split evenly over its imports (one fresh wheel and user each), over
HTTP, all at once.

    .venv/bin/python bench/notify_concurrency.py
    .venv/bin/python bench/notify_concurrency.py --levels 1 4 16 64 --level-rows 192000 --rounds 2

DATABASE_URL: a server on which the bench creates (and drops) its own database; unset, it starts
an embedded Postgres in a temporary directory.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import aiohttp
import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.load import SECRET, Database, Services, csv_file  # noqa: E402
from importer import tokens  # noqa: E402

MODES = {"notify": "on", "silent": "off"}
# Bench code's own query, as the owner.
LEVEL_TIMES = ("SELECT count(*) FILTER (WHERE status = 'completed') AS completed, count(*) AS n,"
               " sum(created_items) AS items, min(started_at) AS first, max(finished_at) AS last,"
               " avg(seq) AS seq FROM import_jobs WHERE id = ANY(%s)")
ENDED = "SELECT count(*) FROM import_jobs WHERE id = ANY(%s) AND finished_at IS NOT NULL"


async def submit(session: aiohttp.ClientSession, url: str, body: bytes, n: int) -> str:
    """A fresh user and wheel, and one import of `body` into it; the job id."""
    user = uuid.uuid4()
    headers = {"Authorization": f"Bearer {tokens.mint(SECRET, user, ttl=7200)}"}
    async with session.post(f"{url}/api/wheels", json={"title": f"Notify {n}", "year": 2026},
                            headers=headers) as resp:
        assert resp.status == 201, await resp.text()
        wheel = (await resp.json())["id"]
    async with session.post(f"{url}/api/wheels/{wheel}/imports?file_name=n{n}.csv", data=body,
                            headers={**headers, "Content-Type": "text/csv"}) as resp:
        payload = await resp.json()
        assert resp.status == 202, payload
        return str(payload["id"])


async def level(db_url: str, url: str, imports: int, rows: int, patience: float) -> tuple[float, float]:
    """`imports` imports of `rows` rows at once: items/s and progress writes per job."""
    bodies = [csv_file(rows, f"L{imports}I{i}") for i in range(imports)]
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        # Wheels and users first, so that the imports are submitted within a moment of each other.
        ids = await asyncio.gather(*(submit(session, url, body, i) for i, body in enumerate(bodies)))
    deadline = time.monotonic() + patience
    async with await psycopg.AsyncConnection.connect(db_url, autocommit=True) as conn:
        while True:
            row = await (await conn.execute(ENDED, (list(ids),))).fetchone()
            assert row is not None
            if row[0] == len(ids):
                break
            if time.monotonic() > deadline:
                raise SystemExit(f"{row[0]}/{len(ids)} imports ended after {patience} s")
            await asyncio.sleep(0.05)
        found = await (await conn.execute(LEVEL_TIMES, (list(ids),))).fetchone()
    assert found is not None
    completed, n, items, first, last, seq = found
    if completed != n:
        raise SystemExit(f"only {completed}/{n} imports completed")
    # seq: 1 at insert, then claim, file noted, each progress write, the completion.
    return items / (last - first).total_seconds(), float(seq) - 3


def run_mode(db_url: str, mode: str, args: argparse.Namespace, data_dir: Path) -> dict[int, tuple[float, float]]:
    services = Services(db_url, data_dir, args.concurrency, servers=1, workers=args.workers,
                        env={"IMPORTER_BENCH_PROGRESS_NOTIFY": MODES[mode]})
    try:
        services.wait_ready()
        url = services.urls[0]
        # Warm-up: every worker's first imports (pools, reader threads) before anything is timed.
        asyncio.run(level(db_url, url, 2 * args.workers, 2000, args.timeout))
        found = {}
        for imports in args.levels:
            found[imports] = asyncio.run(level(db_url, url, imports, args.level_rows // imports, args.timeout))
            print(f"  {mode:6} {imports:3} at once: {found[imports][0]:9,.0f} items/s, "
                  f"{found[imports][1]:.0f} progress writes per job", flush=True)
            if not services.alive():
                raise SystemExit(f"a service died; logs in {data_dir}")
        return found
    finally:
        services.stop()


PROGRESS_WRITE = ("UPDATE import_jobs SET progress = %s %% 90 + 5, processed_items = %s, current_step = %s"
                  " WHERE id = %s")


async def writer(url: str, job: str, silent: bool, unflushed: bool, stop: asyncio.Event) -> int:
    options = "-c importer.bench_progress_notify=off" if silent else ""
    if unflushed:  # as the worker's progress writes commit (importer.db.unflushed_transaction)
        options += " -c synchronous_commit=off"
    async with await psycopg.AsyncConnection.connect(url, autocommit=True, options=options) as conn:
        n = 0
        while not stop.is_set():
            n += 1
            await conn.execute(PROGRESS_WRITE, (n, n, f"Aktivitet {n}", job))
        return n


async def drain(url: str, stop: asyncio.Event) -> None:
    """The hub's part: one LISTEN connection that reads every notification."""
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        await conn.execute("LISTEN import_jobs")
        while not stop.is_set():
            async for _ in conn.notifies(timeout=0.2):
                pass


async def ceiling_once(url: str, jobs: list[str], silent: bool, unflushed: bool, seconds: float) -> float:
    stop = asyncio.Event()
    listener = asyncio.create_task(drain(url, stop))
    await asyncio.sleep(0.2)
    tasks = [asyncio.create_task(writer(url, job, silent, unflushed, stop)) for job in jobs]
    began = time.monotonic()
    await asyncio.sleep(seconds)
    stop.set()
    done = sum(await asyncio.gather(*tasks))
    elapsed = time.monotonic() - began
    await listener
    return done / elapsed


def ceiling(db_url: str, levels: list[int], seconds: float, rounds: int) -> None:
    with psycopg.connect(db_url, autocommit=True) as conn:
        # Jobs of the imports above, one per connection: rows like the worker's.
        jobs = [str(job) for (job,) in conn.execute(
            "SELECT id FROM import_jobs ORDER BY created_at LIMIT %s", (max(levels),))]
    assert len(jobs) == max(levels), "the imports above leave enough job rows"
    for unflushed in (False, True):
        print(f"\nthe lock's ceiling, commits {'unflushed (as progress writes now)' if unflushed else 'durable'}: "
              f"connections | progress commits/s with NOTIFY | without | loss per round | median")
        for n in levels:
            on, off = [], []
            for r in range(rounds):
                for silent in ((False, True) if r % 2 == 0 else (True, False)):
                    rate = asyncio.run(ceiling_once(db_url, jobs[:n], silent, unflushed, seconds))
                    (off if silent else on).append(rate)
            losses = [1 - a / b for a, b in zip(on, off, strict=True)]
            print(f"{n:11} | {statistics.median(on):30,.0f} | {statistics.median(off):7,.0f} | "
                  f"{', '.join(f'{x:+.1%}' for x in losses):>14} | {statistics.median(losses):+.1%}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--levels", type=int, nargs="+", default=[1, 4, 16, 64])
    parser.add_argument("--level-rows", type=int, default=192_000, help="rows per level, over its imports")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--concurrency", type=int, default=16, help="per worker")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("--ceiling-seconds", type=float, default=3.0)
    parser.add_argument("--ceiling-only", action="store_true",
                        help="only the lock's ceiling (a few small imports first)")
    args = parser.parse_args()
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    data_dir = Path(tempfile.mkdtemp(prefix="importer-notify-"))
    print(f"plan: levels {args.levels}, {args.level_rows:,} rows per level; {args.workers} workers × "
          f"concurrency {args.concurrency}; modes alternate, {args.rounds} round(s)", flush=True)
    results: dict[str, list[dict[int, tuple[float, float]]]] = {mode: [] for mode in MODES}
    with Database() as db_url:
        if args.ceiling_only:
            args.levels, args.level_rows, args.rounds = [max(args.levels)], max(args.levels) * 100, 1
            run_mode(db_url, "notify", args, data_dir)
        else:
            for r in range(args.rounds):
                print(f"round {r + 1}", flush=True)
                order = list(MODES) if r % 2 == 0 else list(reversed(MODES))
                for mode in order:
                    results[mode].append(run_mode(db_url, mode, args, data_dir))
            print("\nimports at once | items/s with NOTIFY | without | loss per round | median loss")
            for imports in args.levels:
                on = [found[imports][0] for found in results["notify"]]
                off = [found[imports][0] for found in results["silent"]]
                losses = [1 - a / b for a, b in zip(on, off, strict=True)]
                print(f"{imports:15} | {statistics.median(on):18,.0f} | {statistics.median(off):7,.0f} | "
                      f"{', '.join(f'{x:+.1%}' for x in losses):>14} | {statistics.median(losses):+.1%}")
        ceiling(db_url, [1, 4, 16, 64], args.ceiling_seconds, max(args.rounds, 2))
    print(f"(service logs in {data_dir})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
