"""SSE fan-out: one `importer serve` process, N streaming clients, jobs updated R times a second.

Prints the NOTIFY-to-last-client latency (p50/p95/p99/max over updates, each update's latency
being that of the last of its clients to receive it), events delivered, the server's CPU and RSS
(at start, at the end and every --rss-every seconds), the client processes' CPU (they must not be
the bottleneck: 2 shared cores) and the server's database connections. Clients are asyncio
protocols in several processes (a task or an aiohttp session per client costs too much at
10,000); each update stamps the database clock into current_step (the trigger's NOTIFY goes out
at that transaction's commit), and each client compares it with its own clock on receipt:
server, clients and Postgres share one machine, so one clock.

    .venv/bin/python bench/sse_fanout.py --clients 10000 --jobs 10 --rate 1    # the issue's goal
    .venv/bin/python bench/sse_fanout.py --clients 1000 --jobs 1 --rate 10     # one busy job
    .venv/bin/python bench/sse_fanout.py --clients 10000 --jobs 10 --rate 1 --duration 600  # leaks?

--server-root runs the server from another checkout (e.g. `git worktree add /tmp/before HEAD~1`)
with this bench, so that before and after can be run alternately in the same conditions.
--gc-log makes the server report its garbage collections, --uvloop runs it on uvloop
(bench/server_probe.py).

DATABASE_URL: a server on which the bench creates (and drops) its own database; unset, it
starts an embedded Postgres in a temporary directory.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from importer import tokens  # noqa: E402
from importer.db import conninfo_url  # noqa: E402
from importer.migrate import migrate  # noqa: E402

SECRET = "bench-secret-" + "0123456789" * 4
STAMP = re.compile(rb'"current_step":"t=([0-9.]+)"')

# Bench setup and load, written as the owner (not runtime code: the service never runs these).
SETUP_USER = "INSERT INTO users (id, email) VALUES (%s, %s)"
SETUP_WHEEL = "INSERT INTO year_wheels (owner_id, title, year) VALUES (%s, 'Bench', 2026) RETURNING id"
SETUP_FILE = ("INSERT INTO import_files (user_id, media_type, size_bytes, sha256, content)"
              " VALUES (%s, 'text/csv', 4, sha256('a,b\n'::bytea), 'a,b\n'::bytea) RETURNING id")
SETUP_JOB = ("INSERT INTO import_jobs (user_id, wheel_id, file_id, file_name, status, step, attempts,"
             " started_at) VALUES (%s, %s, %s, 'bench.csv', 'processing', 'items', 1, now()) RETURNING id")
# The database clock at the row change; the NOTIFY leaves at commit, right after.
TICK = ("UPDATE import_jobs SET processed_items = processed_items + 1,"
        " current_step = 't=' || extract(epoch FROM clock_timestamp())::text WHERE id = %s")
SERVER_CONNECTIONS = ("SELECT application_name, count(*) AS n FROM pg_stat_activity"
                      " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                      " GROUP BY application_name ORDER BY 1")


def raise_nofile() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


# -- clients (run in child processes) -----------------------------------------------------

class _Client(asyncio.Protocol):
    """One SSE client: counts events and records each stamp's latency, in data_received (no task)."""

    def __init__(self, request: bytes, stats: dict, latest: dict[bytes, float], ready: asyncio.Future):
        self.request = request
        self.stats = stats
        self.latest = latest
        self.ready: asyncio.Future | None = ready
        self.pending = b""
        self.stopping = False

    def connection_made(self, transport) -> None:
        transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        now = time.time()
        if self.ready is not None:
            # Headers, retry and the first event (the job as it is): not an update to time.
            self.pending += data
            cut = self.pending.rfind(b"\n\r\n")
            if b"data:" in self.pending and cut >= 0:
                self.pending = self.pending[cut + 3:]
                self.stats["ready"] += 1
                self.ready.set_result(None)
                self.ready = None
            return
        # Whole chunks, scanned with one regex: far cheaper than a readline per field.
        buf = self.pending + data if self.pending else data
        cut = buf.rfind(b"\n\r\n")
        if cut < 0:
            self.pending = buf
            return
        self.pending = buf[cut + 3:]
        stats, latest = self.stats, self.latest
        for m in STAMP.finditer(buf, 0, cut):
            stats["events"] += 1
            stamp = m.group(1)
            lat = now - float(stamp)
            if lat > latest.get(stamp, -1.0):
                latest[stamp] = lat

    def connection_lost(self, exc) -> None:
        if self.ready is not None:
            self.stats["failed"] += 1
            self.ready.set_result(None)
            self.ready = None
        elif not self.stopping:
            self.stats["closed"] += 1


async def _connect(host: str, port: int, path: str, token: str, gate: asyncio.Semaphore,
                   stats: dict, latest: dict[bytes, float], clients: list[_Client]) -> None:
    request = (f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n"
               f"Accept: text/event-stream\r\n\r\n").encode()
    loop = asyncio.get_running_loop()
    async with gate:
        ready = loop.create_future()
        try:
            _, client = await loop.create_connection(
                lambda: _Client(request, stats, latest, ready), host, port)
        except OSError:
            stats["failed"] += 1
            return
        clients.append(client)
        await ready


def client_proc(conn, host: str, port: int, plan: list[tuple[str, str]], nice: int) -> None:
    raise_nofile()
    os.nice(nice)

    async def main() -> None:
        stats = {"ready": 0, "events": 0, "closed": 0, "failed": 0}
        latest: dict[bytes, float] = {}
        clients: list[_Client] = []
        gate = asyncio.Semaphore(64)
        connecting = asyncio.gather(*(_connect(host, port, path, token, gate, stats, latest, clients)
                                      for path, token in plan))
        loop = asyncio.get_running_loop()
        # The parent asks for progress with "ready?" and ends the run with "stop".
        while True:
            msg = await loop.run_in_executor(None, conn.recv)
            if msg == "ready?":
                conn.send(dict(stats))
            elif msg == "reset":
                latest.clear()
                stats["events"] = 0
                conn.send("ok")
            elif msg == "stop":
                for c in clients:
                    c.stopping = True
                connecting.cancel()
                conn.send({"stats": stats, "latest": {k.decode(): v for k, v in latest.items()}})
                return

    asyncio.run(main())


# -- the parent: database, server, load ----------------------------------------------------

def database(args) -> tuple[str, callable]:
    """A fresh migrated database for the bench, and how to get rid of it."""
    base = os.environ.get("DATABASE_URL")
    tmp = None
    if not base:
        from importer.embedded import start, stop

        tmp = Path(tempfile.mkdtemp(prefix="sse-bench-"))
        base = start(tmp)
    name = f"importer_bench_{uuid.uuid4().hex[:8]}"
    admin = conninfo_url(base, dbname="postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = conninfo_url(base, dbname=name)
    migrate(url)

    def drop() -> None:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if tmp is not None:
            stop(tmp)

    return url, drop


def setup_jobs(url: str, users: int, jobs: int) -> list[tuple[str, str]]:
    """(job id, token of its owner) for `jobs` running jobs spread over `users` users."""
    out = []
    with psycopg.connect(url, autocommit=True) as conn:
        owners = []
        for _ in range(users):
            uid = uuid.uuid4()
            conn.execute(SETUP_USER, (uid, f"{uid.hex[:8]}@bench.test"))
            wheel = conn.execute(SETUP_WHEEL, (uid,)).fetchone()[0]
            owners.append((uid, wheel, tokens.mint(SECRET, uid, ttl=24 * 3600)))
        for j in range(jobs):
            uid, wheel, token = owners[j % users]
            file_id = conn.execute(SETUP_FILE, (uid,)).fetchone()[0]
            job = conn.execute(SETUP_JOB, (uid, wheel, file_id)).fetchone()[0]
            out.append((str(job), token))
    return out


def start_server(url: str, port: int, args) -> subprocess.Popen:
    root = Path(args.server_root).resolve() if args.server_root else ROOT
    env = {**os.environ, "DATABASE_URL": url, "IMPORTER_JWT_SECRET": SECRET, "IMPORTER_LOG_FORMAT": "text",
           # The bench's clients are a few users with thousands of streams each: lift the
           # per-user and per-process stream caps above what it opens.
           "IMPORTER_MAX_STREAMS_PER_USER": str(args.clients + 100),
           "IMPORTER_MAX_STREAMS": str(args.clients + 100),
           "PYTHONPATH": str(root)}
    prefix = ["-m", "cProfile", "-o", args.profile] if args.profile else []
    if args.gc_log or args.uvloop:
        prefix = [str(ROOT / "bench" / "server_probe.py"), *(["--gc-log"] if args.gc_log else []),
                  *(["--uvloop"] if args.uvloop else [])]
    proc = subprocess.Popen([sys.executable, *prefix, "-m", "importer.cli", "serve", "--port", str(port)],
                            cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=sys.stderr,
                            preexec_fn=(lambda: os.nice(args.nice)) if args.nice else None)
    deadline = time.monotonic() + 60
    while True:
        if proc.poll() is not None:
            raise SystemExit("the server exited")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as resp:
                if resp.status == 200:
                    return proc
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise SystemExit("the server did not get ready")
        time.sleep(0.2)


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


def run(args) -> None:
    raise_nofile()
    url, drop = database(args)
    server = None
    procs = []
    try:
        jobs = setup_jobs(url, args.users or args.jobs, args.jobs)
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        server = start_server(url, port, args)
        rss_idle = rss_mib(server.pid)
        plans: list[list[tuple[str, str]]] = [[] for _ in range(args.client_procs)]
        for i in range(args.clients):
            job, token = jobs[i % len(jobs)]
            plans[i % args.client_procs].append((f"/api/imports/{job}/events", token))
        ctx = mp.get_context("spawn")
        pipes = []
        for plan in plans:
            parent, child = ctx.Pipe()
            p = ctx.Process(target=client_proc, args=(child, "127.0.0.1", port, plan, args.nice), daemon=True)
            p.start()
            procs.append(p)
            pipes.append(parent)
        t0 = time.monotonic()
        while True:
            for pipe in pipes:
                pipe.send("ready?")
            states = [pipe.recv() for pipe in pipes]
            ready = sum(s["ready"] for s in states)
            failed = sum(s["failed"] + s["closed"] for s in states)
            if ready + failed >= args.clients:
                break
            if time.monotonic() - t0 > args.connect_timeout:
                print(f"only {ready} of {args.clients} clients connected", file=sys.stderr)
                break
            time.sleep(0.5)
        connect_s = time.monotonic() - t0
        rss_connected = rss_mib(server.pid)
        for pipe in pipes:
            pipe.send("reset")
            pipe.recv()
        job_ids = [j for j, _ in jobs]
        ticks = 0
        cpu_before = cpu_seconds(server.pid)
        clients_cpu_before = [cpu_seconds(p.pid) for p in procs]
        rss_every = args.rss_every or max(args.duration / 10, 1.0)
        rss_over_time = [(0, round(rss_connected, 1))]
        with psycopg.connect(url, autocommit=True) as conn:
            conns_during = conn.execute(SERVER_CONNECTIONS).fetchall()
            start = time.monotonic()
            next_tick = start
            next_rss = start + rss_every
            # Each job is updated `rate` times a second, the jobs out of phase (as independent
            # workers would be), one UPDATE at a time.
            step = 1 / (args.rate * len(job_ids))
            while time.monotonic() - start < args.duration:
                conn.execute(TICK, (job_ids[ticks % len(job_ids)],))
                ticks += 1
                next_tick += step
                if time.monotonic() >= next_rss:
                    rss_over_time.append((round(next_rss - start), round(rss_mib(server.pid), 1)))
                    if args.rss_every:
                        print(f"t={rss_over_time[-1][0]}s server RSS {rss_over_time[-1][1]} MiB",
                              file=sys.stderr, flush=True)
                    next_rss += rss_every
                delay = next_tick - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
            load_s = time.monotonic() - start
            cpu_load = (cpu_seconds(server.pid) - cpu_before) / load_s
            clients_cpu = [(cpu_seconds(p.pid) - b) / load_s for p, b in zip(procs, clients_cpu_before, strict=True)]
            time.sleep(args.drain)
        rss_loaded = rss_mib(server.pid)
        results = []
        for pipe in pipes:
            pipe.send("stop")
        for pipe in pipes:
            results.append(pipe.recv())
        latest: dict[str, float] = {}
        for r in results:
            for k, v in r["latest"].items():
                latest[k] = max(v, latest.get(k, -1.0))
        events = sum(r["stats"]["events"] for r in results)
        dropped = sum(r["stats"]["closed"] + r["stats"]["failed"] for r in results)
        lat_ms = [v * 1000 for v in latest.values()]
        per_job = [len(range(j, args.clients, len(jobs))) for j in range(len(jobs))]
        expected = sum(per_job[k % len(jobs)] for k in range(ticks))
        print(json.dumps({
            "clients": args.clients, "ready": ready, "jobs": len(jobs), "users": args.users or args.jobs,
            "rate_per_job": args.rate, "duration_s": args.duration, "client_procs": args.client_procs,
            "connect_s": round(connect_s, 1),
            "updates": ticks, "events_delivered": events, "events_expected": expected,
            "clients_closed_or_failed": dropped,
            "notify_to_last_client_ms": {
                "p50": round(statistics.median(lat_ms), 1) if lat_ms else None,
                "p95": round(pct(lat_ms, 95), 1) if lat_ms else None,
                "p99": round(pct(lat_ms, 99), 1) if lat_ms else None,
                "max": round(max(lat_ms), 1) if lat_ms else None},
            "server_cpu_during_load": f"{cpu_load:.0%} of one core",
            "client_procs_cpu_during_load": [f"{c:.0%}" for c in clients_cpu],
            "load_average_1min_at_end": os.getloadavg()[0], "nice": args.nice,
            "server_rss_mib": {"idle": round(rss_idle, 1), "connected": round(rss_connected, 1),
                               "after_load": round(rss_loaded, 1)},
            "server_rss_mib_over_time": {f"{t}s": r for t, r in rss_over_time},
            "db_connections_by_application": {r[0] or "(none)": r[1] for r in conns_during},
        }, indent=2))
    finally:
        for p in procs:
            p.kill()
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
        drop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--jobs", type=int, default=10, help="jobs the clients spread over")
    parser.add_argument("--users", type=int, default=0, help="owners of those jobs (default: one per job)")
    parser.add_argument("--rate", type=float, default=10.0, help="updates per second of each job")
    parser.add_argument("--duration", type=float, default=15.0, help="seconds of load")
    parser.add_argument("--drain", type=float, default=2.0, help="seconds to wait for the last events")
    parser.add_argument("--client-procs", type=int, default=0,
                        help="client processes (default: one per 5,000 clients; 2 cores are shared)")
    parser.add_argument("--profile", help="write a cProfile of the server to this file")
    parser.add_argument("--rss-every", type=float, default=0.0,
                        help="seconds between RSS samples, also printed as they come (default: a tenth of --duration)")
    parser.add_argument("--server-root", help="run the server from this checkout instead (before/after runs)")
    parser.add_argument("--gc-log", action="store_true", help="the server prints each collection of generation 2")
    parser.add_argument("--nice", type=int, default=0,
                        help="niceness of the server and the clients (negative, as root: measure the server's own"
                             " pauses on a machine whose cores other work keeps busy)")
    parser.add_argument("--uvloop", action="store_true", help="the server runs on uvloop (pip install uvloop first)")
    parser.add_argument("--connect-timeout", type=float, default=180.0)
    args = parser.parse_args()
    args.client_procs = args.client_procs or max(1, -(-args.clients // 5000))
    run(args)


if __name__ == "__main__":
    main()
