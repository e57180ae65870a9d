"""Many small imports through two workers, against the queue's own no-op task rate in the same run.

Starts one `importer serve` and two `importer worker` processes (bench/load.py's process
handling; IMPORTER_MAX_ACTIVE_JOBS raised for the bench's server only, IMPORTER_BENCH_TASKS=on so
the workers also run the no-op task of importer/jobs/bench_tasks.py) on a database of its own.
`--users` users, each with its own token and wheel, submit `--imports` CSV files of `--rows`
rows in all over HTTP, each user one file after the other. Then, in each of `--rounds` rounds:

  no-op drain   `--noop` empty tasks deferred in one statement, drained by the same two workers
                at the same concurrency: tasks/s from the defer to the last `succeeded` event
                (before and after the imports; their mean is the denominator)
  imports       imports/s from the first submit to the last `completed` (the job row's
                finished_at), and per import submit → completed (created_at → finished_at) p50/p99
  ratio         imports/s / no-op tasks/s (goal >= 0.6)
  CPU           CPU milliseconds per import and per no-op task, of the two worker processes and
                of the database's backends: what each costs, less sensitive than rates to the
                neighbours on a shared machine

and checks that every import completed and every wheel holds exactly the rows of its files.

    .venv/bin/python bench/small_imports.py
    .venv/bin/python bench/small_imports.py --imports 1000 --users 50 --rows 25 --concurrency 10 --rounds 2

DATABASE_URL: a server on which the bench creates (and drops) its own database; unset, it starts
an embedded Postgres in a temporary directory.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import sys
import tempfile
import time
import uuid
from datetime import datetime
from pathlib import Path

import aiohttp
import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.load import SECRET, Database, Services, csv_file, pct  # noqa: E402
from importer import tokens  # noqa: E402
from importer.db import make_pool  # noqa: E402
from importer.jobs.app import make_app  # noqa: E402
from importer.jobs.bench_tasks import NOOP_TASK  # noqa: E402
from importer.settings import Settings  # noqa: E402

# Bench code's own queries, as the owner.
NOOP_DONE = ("SELECT count(*) AS n, max(e.at) AS last FROM procrastinate_jobs j"
             " JOIN procrastinate_events e ON e.job_id = j.id AND e.type = 'succeeded'"
             " WHERE j.id = ANY(%s)")
IMPORTS_ENDED = "SELECT count(*) AS n FROM import_jobs WHERE id = ANY(%s) AND finished_at IS NOT NULL"
IMPORT_TIMES = ("SELECT status, created_at, finished_at, processed_items FROM import_jobs"
                " WHERE id = ANY(%s)")
WHEEL_ITEMS = "SELECT wheel_id::text, count(*) AS n, count(DISTINCT name) AS names FROM items GROUP BY wheel_id"


class CpuMeter:
    """CPU seconds (user + system) of the worker processes and of the bench database's backends."""

    def __init__(self, db_url: str, workers: list[int]):
        self.db_url = db_url
        self.workers = workers

    def _backends(self) -> list[int]:
        with psycopg.connect(self.db_url) as conn:
            return [pid for (pid,) in conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")]

    @staticmethod
    def _cpu(pid: int) -> float:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def read(self) -> dict[str, dict[int, float]]:
        return {"workers": {p: self._cpu(p) for p in self.workers},
                "database": {p: self._cpu(p) for p in self._backends()}}

    @staticmethod
    def spent(before: dict[str, dict[int, float]], after: dict[str, dict[int, float]]) -> dict[str, float]:
        # A backend that started meanwhile counts from 0; one that ended is lost (pools keep theirs).
        return {kind: sum(t - before[kind].get(pid, 0.0) for pid, t in after[kind].items())
                for kind in after}


def cpu_ms(spent: dict[str, float], count: int) -> str:
    return f"workers {spent['workers'] / count * 1000:.2f} ms, database {spent['database'] / count * 1000:.2f} ms"


async def noop_drain(db_url: str, count: int, patience: float) -> float:
    """Tasks/s of `count` no-op tasks deferred in one statement, until the last has succeeded."""
    settings = Settings.from_env({"DATABASE_URL": db_url, "IMPORTER_BENCH_TASKS": "on"})
    pool = make_pool(db_url, min_size=1, max_size=2, name="bench-defer")
    await pool.open(wait=True, timeout=30)
    try:
        app = make_app(settings)
        async with app.open_async(pool):
            task = app.tasks[NOOP_TASK]
            began = time.time()
            ids = await task.batch_defer_async(*({} for _ in range(count)))
        deadline = time.monotonic() + patience
        async with pool.connection() as conn:
            while True:
                row = await (await conn.execute(NOOP_DONE, (ids,))).fetchone()
                assert row is not None
                if row["n"] == count:
                    last: datetime = row["last"]
                    return count / (last.timestamp() - began)
                if time.monotonic() > deadline:
                    raise SystemExit(f"no-op drain: {row['n']}/{count} done after {patience} s")
                await asyncio.sleep(0.05)
    finally:
        await pool.close()


class Users:
    """The bench's users: a token and a wheel each, and the rows their files hold."""

    def __init__(self, count: int):
        self.ids = [uuid.uuid4() for _ in range(count)]
        self.tokens = {u: tokens.mint(SECRET, u, email=f"small-{u.hex[:8]}@example.test", ttl=7200)
                       for u in self.ids}
        self.wheels: dict[uuid.UUID, str] = {}
        self.rows: dict[str, int] = {}
        self.files = 0

    async def make_wheels(self, session: aiohttp.ClientSession, url: str) -> None:
        for n, u in enumerate(self.ids):
            async with session.post(f"{url}/api/wheels", json={"title": f"Små {n}", "year": 2026},
                                    headers={"Authorization": f"Bearer {self.tokens[u]}"}) as resp:
                assert resp.status == 201, await resp.text()
                self.wheels[u] = (await resp.json())["id"]
                self.rows[self.wheels[u]] = 0

    async def submit(self, session: aiohttp.ClientSession, url: str, imports: int,
                     rows: int) -> tuple[list[str], float]:
        """`imports` files of `rows` rows spread over the users, each user's one after the other;
        the job ids and the wall time of the first submit."""
        per_user = [imports // len(self.ids) + (1 if n < imports % len(self.ids) else 0)
                    for n in range(len(self.ids))]
        batch = self.files
        self.files += 1
        bodies = {u: [csv_file(rows, f"B{batch}U{n}F{f}") for f in range(per_user[n])]
                  for n, u in enumerate(self.ids)}
        ids: list[str] = []

        async def user(u: uuid.UUID) -> None:
            headers = {"Authorization": f"Bearer {self.tokens[u]}", "Content-Type": "text/csv"}
            for f, body in enumerate(bodies[u]):
                async with session.post(f"{url}/api/wheels/{self.wheels[u]}/imports?file_name=f{f}.csv",
                                        data=body, headers=headers) as resp:
                    payload = await resp.json()
                if resp.status != 202:
                    raise SystemExit(f"submit answered {resp.status}: {payload}")
                ids.append(payload["id"])
                self.rows[self.wheels[u]] += rows

        first = time.time()
        await asyncio.gather(*(user(u) for u in self.ids))
        return ids, first


async def wait_ended(db_url: str, ids: list[str], patience: float) -> None:
    deadline = time.monotonic() + patience
    async with await psycopg.AsyncConnection.connect(db_url, autocommit=True) as conn:
        while True:
            row = await (await conn.execute(IMPORTS_ENDED, (ids,))).fetchone()
            assert row is not None
            if row[0] == len(ids):
                return
            if time.monotonic() > deadline:
                raise SystemExit(f"imports: {row[0]}/{len(ids)} ended after {patience} s")
            await asyncio.sleep(0.05)


async def import_round(db_url: str, session: aiohttp.ClientSession, url: str, users: Users,
                       imports: int, rows: int, patience: float) -> tuple[float, list[float], dict[str, int]]:
    """Imports/s (first submit → last finished_at), per-import latencies, statuses."""
    ids, first = await users.submit(session, url, imports, rows)
    await wait_ended(db_url, ids, patience)
    with psycopg.connect(db_url) as conn:
        found = conn.execute(IMPORT_TIMES, (ids,)).fetchall()
    statuses: dict[str, int] = {}
    for status, *_ in found:
        statuses[status] = statuses.get(status, 0) + 1
    last = max(finished for _, _, finished, _ in found)
    latencies = [(finished - created).total_seconds() for _, created, finished, _ in found]
    return len(ids) / (last.timestamp() - first), latencies, statuses


async def run(args: argparse.Namespace, db_url: str, services: Services) -> bool:
    url = services.urls[0]
    users = Users(args.users)
    print(f"plan: {args.users} users, {args.imports} imports of {args.rows} rows per round, "
          f"{args.noop} no-op tasks before and after; 2 workers × concurrency {args.concurrency}; "
          f"{args.rounds} round(s) after a warm-up", flush=True)
    ok = True
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        await users.make_wheels(session, url)
        # Warm-up: the workers' pools, the forkserver, the server's caches.
        await noop_drain(db_url, min(args.noop, 200), args.timeout)
        await import_round(db_url, session, url, users, args.users, args.rows, args.timeout)
        ratios = []
        meter = CpuMeter(db_url, [p.pid for p in services.procs[1:]])
        for r in range(args.rounds):
            cpu0 = meter.read()
            before = await noop_drain(db_url, args.noop, args.timeout)
            cpu1 = meter.read()
            rate, latencies, statuses = await import_round(db_url, session, url, users, args.imports,
                                                           args.rows, args.timeout)
            cpu2 = meter.read()
            after = await noop_drain(db_url, args.noop, args.timeout)
            cpu3 = meter.read()
            noop_cpu = {k: CpuMeter.spent(cpu0, cpu1)[k] + CpuMeter.spent(cpu2, cpu3)[k] for k in cpu0}
            import_cpu = CpuMeter.spent(cpu1, cpu2)
            noop = (before + after) / 2
            ratios.append(rate / noop)
            if statuses != {"completed": args.imports}:
                ok = False
                print(f"FAIL: imports by status: {statuses}")
            print(f"round {r + 1}: no-op {before:.0f} / {after:.0f} tasks/s (mean {noop:.0f}); imports "
                  f"{rate:.1f}/s; submit → completed p50 {pct(latencies, 50) * 1000:.0f} ms, "
                  f"p99 {pct(latencies, 99) * 1000:.0f} ms; ratio {rate / noop:.2f} (goal >= 0.6)", flush=True)
            print(f"  CPU per import: {cpu_ms(import_cpu, args.imports)}; per no-op task: "
                  f"{cpu_ms(noop_cpu, 2 * args.noop)}", flush=True)
    with psycopg.connect(db_url) as conn:
        items = {w: (n, names) for w, n, names in conn.execute(WHEEL_ITEMS).fetchall()}
    bad = [w for w, expected in users.rows.items() if items.get(w, (0, 0)) != (expected, expected)]
    if bad:
        ok = False
        print(f"FAIL: {len(bad)} wheels do not hold exactly their files' rows, e.g. {bad[0]}: "
              f"{items.get(bad[0])} for {users.rows[bad[0]]}")
    if args.functions:
        with psycopg.connect(db_url) as conn:
            for name, calls, total, own in conn.execute(
                    "SELECT funcname, calls, total_time, self_time FROM pg_stat_user_functions"
                    " ORDER BY self_time DESC LIMIT 15"):
                print(f"  function {name}: {calls} calls, {total:.0f} ms total, {own:.0f} ms self")
    print(f"ratio imports/no-op per round: {', '.join(f'{x:.2f}' for x in ratios)}; "
          f"checks: every wheel holds exactly its files' rows: {not bad}")
    print("RESULT: " + ("OK" if ok else "FAILED"))
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--imports", type=int, default=1000, help="imports per round, over all users")
    parser.add_argument("--rows", type=int, default=25, help="rows per file")
    parser.add_argument("--noop", type=int, default=2000, help="no-op tasks per drain")
    parser.add_argument("--concurrency", type=int, default=10, help="per worker")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--functions", action="store_true",
                        help="time the database functions (track_functions=all; superuser only)")
    parser.add_argument("--timeout", type=float, default=600, help="seconds a drain or a round may take")
    args = parser.parse_args()
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    data_dir = Path(tempfile.mkdtemp(prefix="importer-small-"))
    with Database() as db_url:
        services = Services(db_url, data_dir, args.concurrency, servers=1, workers=2,
                            env={"IMPORTER_BENCH_TASKS": "on",
                                 **({"PGOPTIONS": "-c track_functions=all"} if args.functions else {})})
        try:
            services.wait_ready()
            ok = asyncio.run(run(args, db_url, services))
        finally:
            services.stop()
    print(f"(service logs in {data_dir})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
