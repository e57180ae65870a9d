"""SSE fan-out: one `importer serve` process, N streaming clients, jobs updated R times a second.

Prints the NOTIFY-to-last-client latency (p50/p99 over updates, each update's latency being
that of the last of its clients to receive it), events delivered, the server's RSS and its
database connections. Clients are raw asyncio streams in several processes (an aiohttp session
per client costs too much at 10,000); each update stamps the database clock into current_step
(the trigger's NOTIFY goes out at that transaction's commit), and each client compares it with
its own clock on receipt: server, clients and Postgres share one machine, so one clock.

    .venv/bin/python bench/sse_fanout.py --clients 1000 --jobs 1     # one NOTIFY to 1,000 clients
    .venv/bin/python bench/sse_fanout.py --clients 1000 --jobs 10    # 10 jobs, 100 clients each
    .venv/bin/python bench/sse_fanout.py --clients 10000 --jobs 10 --rate 1

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

async def _client(host: str, port: int, path: str, token: str, gate: asyncio.Semaphore,
                  stats: dict, latest: dict[bytes, float], stop: asyncio.Event) -> None:
    async with gate:
        try:
            reader, writer = await asyncio.open_connection(host, port, limit=1 << 16)
        except OSError:
            stats["failed"] += 1
            return
        writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n"
                     f"Accept: text/event-stream\r\n\r\n".encode())
        first = True
        try:
            while True:
                line = await reader.readline()
                if not line:
                    stats["closed"] += 1
                    return
                if not line.startswith(b"data:"):
                    continue
                now = time.time()
                if first:
                    first = False
                    stats["ready"] += 1
                    break
        except OSError:
            stats["failed"] += 1
            return
    # Whole chunks, scanned with one regex: far cheaper than a readline per field at 10,000.
    pending = b""
    try:
        while not stop.is_set():
            chunk = await reader.read(1 << 16)
            if not chunk:
                stats["closed"] += 1
                return
            now = time.time()
            buf = pending + chunk
            cut = buf.rfind(b"\n\r\n")
            if cut < 0:
                pending = buf
                continue
            pending = buf[cut + 3:]
            for m in STAMP.finditer(buf, 0, cut):
                stats["events"] += 1
                stamp = m.group(1)
                lat = now - float(stamp)
                if lat > latest.get(stamp, -1.0):
                    latest[stamp] = lat
    except OSError:
        stats["failed"] += 1
    finally:
        writer.close()


def client_proc(conn, host: str, port: int, plan: list[tuple[str, str]]) -> None:
    raise_nofile()

    async def main() -> None:
        stats = {"ready": 0, "events": 0, "closed": 0, "failed": 0}
        latest: dict[bytes, float] = {}
        stop = asyncio.Event()
        gate = asyncio.Semaphore(64)
        tasks = [asyncio.create_task(_client(host, port, path, token, gate, stats, latest, stop))
                 for path, token in plan]
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
                stop.set()
                for t in tasks:
                    t.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
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


def start_server(url: str, port: int, profile: str | None) -> subprocess.Popen:
    # Thousands of streams for a handful of users: the bench measures fan-out, not admission
    # (the product's defaults are 16 per user and 10,000 per process).
    env = {**os.environ, "DATABASE_URL": url, "IMPORTER_JWT_SECRET": SECRET, "IMPORTER_LOG_FORMAT": "text",
           "IMPORTER_MAX_STREAMS_PER_USER": "1000000", "IMPORTER_MAX_STREAMS": "1000000"}
    prefix = ["-m", "cProfile", "-o", profile] if profile else []
    proc = subprocess.Popen([sys.executable, *prefix, "-m", "importer.cli", "serve", "--port", str(port)],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=sys.stderr)
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
        server = start_server(url, port, args.profile)
        rss_idle = rss_mib(server.pid)
        plans: list[list[tuple[str, str]]] = [[] for _ in range(args.client_procs)]
        for i in range(args.clients):
            job, token = jobs[i % len(jobs)]
            plans[i % args.client_procs].append((f"/api/imports/{job}/events", token))
        ctx = mp.get_context("spawn")
        pipes = []
        for plan in plans:
            parent, child = ctx.Pipe()
            p = ctx.Process(target=client_proc, args=(child, "127.0.0.1", port, plan), daemon=True)
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
        with psycopg.connect(url, autocommit=True) as conn:
            conns_during = conn.execute(SERVER_CONNECTIONS).fetchall()
            start = time.monotonic()
            next_tick = start
            # Each job is updated `rate` times a second, the jobs out of phase (as independent
            # workers would be), one UPDATE at a time.
            step = 1 / (args.rate * len(job_ids))
            while time.monotonic() - start < args.duration:
                conn.execute(TICK, (job_ids[ticks % len(job_ids)],))
                ticks += 1
                next_tick += step
                delay = next_tick - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
            load_s = time.monotonic() - start
            cpu_load = (cpu_seconds(server.pid) - cpu_before) / load_s
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
                "p99": round(pct(lat_ms, 99), 1) if lat_ms else None,
                "max": round(max(lat_ms), 1) if lat_ms else None},
            "server_cpu_during_load": f"{cpu_load:.0%} of one core",
            "server_rss_mib": {"idle": round(rss_idle, 1), "connected": round(rss_connected, 1),
                               "after_load": round(rss_loaded, 1)},
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
    parser.add_argument("--connect-timeout", type=float, default=180.0)
    args = parser.parse_args()
    args.client_procs = args.client_procs or max(1, -(-args.clients // 5000))
    run(args)


if __name__ == "__main__":
    main()
