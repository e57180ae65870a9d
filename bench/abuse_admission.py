"""Abuse bench, admission scenarios (issue 17, finding 3): what one user's large uploads cost the
server process: its peak RSS growth and its longest event-loop stall. Goal: RSS growth < 100 MB
and no stall over 100 ms in each scenario.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/abuse_admission.py
    .venv/bin/python bench/abuse_admission.py --only json --server-root /tmp/before   # an older checkout

Scenarios, each on a fresh `importer serve` (no worker) with the default limits:
- "ten parallel 60 MB uploads": one user sends ten 60 MB CSV bodies at once.
- "a 94 MB JSON body": one user sends a 94 MB structured-JSON import.

Each scenario is `async def scenario(base, new_token, measure) -> str`: `base` is the server's
URL, `new_token()` a bearer token of a new user, `measure()` an async context manager entered
once around the part under test; it returns a note for the table. bench/abuse.py's harness
(`Run.base`, `Run.token`, `Run.measure`) can run them as they are.

How the figures are taken here: RSS is the server's VmHWM (reset through clear_refs when the block
starts) and VmRSS sampled every 10 ms, minus its VmRSS at the start; the RSS of its child processes
(the fork server's children that check uploads) is shown beside it, not in it. Stalls, three ways:
- CPU: bench/loop_probe/sitecustomize.py (on the server's PYTHONPATH) logs every loop callback that
  used over 20 ms of the loop thread's CPU time. The goal is checked on this figure: on a shared
  machine the wall clock also counts the time the server waited for a core.
- wall: asyncio debug mode logs "Executing <callback> took N seconds" for every callback over
  100 ms of wall-clock time.
- /healthz: a probe (a process of its own) asks GET /healthz every 20 ms during the block; its
  slowest answer bounds the stall from the outside (round trip and the probe's own scheduling
  included: on a busy machine it reads high).
DATABASE_URL: a Postgres server on which the bench creates (and drops) its own database.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import json
import multiprocessing
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.submit_latency import SECRET, bench_database, free_port, wait_ready  # noqa: E402
from importer import tokens  # noqa: E402

MB = 1 << 20
GOAL_RSS_MB = 100.0
GOAL_STALL_MS = 100.0
SLOW_CALLBACK = re.compile(r"Executing (?P<what>.*?) took (?P<seconds>\d+(?:\.\d+)?) seconds")
# bench/loop_probe/sitecustomize.py: a callback's CPU time on the loop thread.
CPU_CALLBACK = re.compile(r"loop-probe: cpu (?P<cpu>\d+\.\d+) wall (?P<wall>\d+\.\d+) (?P<what>.*)")
LOOP_PROBE = Path(__file__).resolve().parent / "loop_probe"

Measure = Callable[[], contextlib.AbstractAsyncContextManager[Any]]
NewToken = Callable[[], str]


# ---------- the scenarios ----------

def csv_body(size: int) -> bytes:
    """A valid CSV of about `size` bytes (rows of one activity each)."""
    row = "Möte {:07d};2026-03-01;2026-03-02;Ekonomi\n"
    rows = size // len(row.format(0).encode())
    return ("Aktivitet;Startdatum;Slutdatum;Område\n" + "".join(row.format(i) for i in range(rows))).encode()


def json_body(size: int) -> bytes:
    """A structured import (API.md, third body form) of about `size` bytes."""
    head = {"importMode": "append", "fileName": "big.json",
            "structure": {"rings": [{"id": "r1", "name": "Ring", "type": "inner"}],
                          "activityGroups": [{"id": "g1", "name": "Grupp", "color": "#336699"}], "labels": []}}
    item = ('{{"name": "Aktivitet {:08d}", "startDate": "2026-03-01", "endDate": "2026-03-02", '
            '"ringId": "r1", "activityId": "g1", "description": "Beskrivning av aktiviteten"}}')
    count = size // (len(item.format(0)) + 2)
    items = ", ".join(item.format(i) for i in range(count))
    return (json.dumps(head)[:-1] + ', "pages": [{"year": 2026, "items": [' + items + "]}]}").encode()


async def _wheel(session: aiohttp.ClientSession, base: str, headers: dict[str, str]) -> str:
    async with session.post(f"{base}/api/wheels", json={"title": "Abuse", "year": 2026}, headers=headers) as resp:
        assert resp.status == 201, await resp.text()
        return str((await resp.json())["id"])


def _tally(statuses: list[str]) -> str:
    return ", ".join(f"{statuses.count(s)}× {s}" for s in sorted(set(statuses)))


async def ten_parallel_uploads(base: str, new_token: NewToken, measure: Measure, *, uploads: int = 10,
                               size: int = 60 * MB) -> str:
    """One user sends `uploads` CSV bodies of `size` bytes at once; note: the answers' tally."""
    body = csv_body(size)
    headers = {"Authorization": f"Bearer {new_token()}"}
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=600)) as session:
        wheel = await _wheel(session, base, headers)

        async def one(n: int) -> str:
            try:
                async with session.post(f"{base}/api/wheels/{wheel}/imports?file_name=big{n}.csv", data=body,
                                        headers={**headers, "Content-Type": "text/csv"}) as resp:
                    answer = await resp.json()
                    return f"{resp.status} {answer['error']['code']}" if resp.status >= 400 else str(resp.status)
            except aiohttp.ClientError as exc:  # the server closed while the client was still sending
                return type(exc).__name__

        async with measure():
            statuses = await asyncio.gather(*(one(n) for n in range(uploads)))
    return _tally(list(statuses))


async def big_json_body(base: str, new_token: NewToken, measure: Measure, *, size: int = 94 * MB) -> str:
    """One user sends a structured-JSON import of `size` bytes; note: its answer."""
    body = json_body(size)
    headers = {"Authorization": f"Bearer {new_token()}", "Content-Type": "application/json"}
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=600)) as session:
        wheel = await _wheel(session, base, {"Authorization": headers["Authorization"]})
        async with measure():
            async with session.post(f"{base}/api/wheels/{wheel}/imports", data=body, headers=headers) as resp:
                answer = await resp.json()
    code = f" {answer['error']['code']}" if resp.status >= 400 else ""
    return f"{len(body) / MB:.0f} MB body: {resp.status}{code}"


Scenario = Callable[[str, NewToken, Measure], Awaitable[str]]
SCENARIOS: dict[str, Scenario] = {
    "ten parallel 60 MB uploads": ten_parallel_uploads,
    "a 94 MB JSON body": big_json_body,
}


# ---------- measuring one server process ----------

def _status_kb(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise KeyError(key)


def _descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        for task in Path(f"/proc/{todo.pop()}/task").glob("*"):
            with contextlib.suppress(OSError):
                children = [int(c) for c in (task / "children").read_text().split()]
                found += children
                todo += children
    return found


class _Sampler(threading.Thread):
    """The server's VmRSS and its children's summed VmRSS every 10 ms, in a thread."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.peak_kb, self.children_peak_kb = pid, 0, 0
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            with contextlib.suppress(OSError, KeyError):
                self.peak_kb = max(self.peak_kb, _status_kb(self.pid, "VmRSS"))
                children = 0
                for child in _descendants(self.pid):
                    with contextlib.suppress(OSError, KeyError):
                        children += _status_kb(child, "VmRSS")
                self.children_peak_kb = max(self.children_peak_kb, children)
            self._halt.wait(0.01)

    def stop(self) -> None:
        self._halt.set()
        self.join()


def _probe(base: str, halt: Any, slowest: Any) -> None:
    """GET /healthz every 20 ms on one keep-alive connection until `halt` is set; the slowest
    answer's ms into `slowest`. Runs in a process of its own: in the bench's, sending the
    uploads would hold the GIL and the figure would be the bench's own stall."""
    host, port = base.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=60)
    while not halt.is_set():
        started = time.perf_counter()
        connection.request("GET", "/healthz")
        connection.getresponse().read()
        slowest.value = max(slowest.value, (time.perf_counter() - started) * 1000)
        halt.wait(0.02)
    connection.close()


class _Prober:
    """`_probe` in a child process (spawned: nothing of the bench's state comes along)."""

    def __init__(self, base: str):
        context = multiprocessing.get_context("spawn")
        self._halt, self._slowest = context.Event(), context.Value("d", 0.0)
        self._process = context.Process(target=_probe, args=(base, self._halt, self._slowest), daemon=True)

    def start(self) -> None:
        self._process.start()

    def stop(self) -> float:
        self._halt.set()
        self._process.join(30)
        return float(self._slowest.value)


@dataclass
class Figures:
    rss_peak_mb: float = 0.0
    children_peak_mb: float = 0.0
    stall_ms: float = 0.0
    cpu_ms: float = 0.0
    cpu_worst: str = ""
    probe_ms: float = 0.0
    worst: str = ""
    note: str = ""
    seconds: float = 0.0
    slow: list[float] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """The goal, with the stall read as the loop's CPU time per callback (see the docstring)."""
        return self.rss_peak_mb < GOAL_RSS_MB and self.cpu_ms <= GOAL_STALL_MS


@contextlib.asynccontextmanager
async def measuring(pid: int, base: str, log: Path, figures: Figures) -> AsyncIterator[Figures]:
    """Measure the block: peak RSS growth of `pid`, its children's peak RSS, its slow callbacks
    (from `log`) and the slowest /healthz answer while the block runs."""
    offset, start_kb = _begin(pid, log)
    sampler = _Sampler(pid)
    sampler.start()
    prober = _Prober(base)
    prober.start()
    started = time.perf_counter()
    try:
        yield figures
    finally:
        figures.seconds = time.perf_counter() - started
        await asyncio.sleep(0.3)  # a stall that ended with the block is logged by then
        figures.probe_ms = prober.stop()
        sampler.stop()
        peak_kb = sampler.peak_kb
        with contextlib.suppress(OSError, KeyError):
            peak_kb = max(peak_kb, _status_kb(pid, "VmHWM"))
        figures.rss_peak_mb = (peak_kb - start_kb) / 1024
        figures.children_peak_mb = sampler.children_peak_kb / 1024
        for ms, what in _slow_callbacks(log, offset):
            figures.slow.append(ms)
            if ms > figures.stall_ms:
                figures.stall_ms, figures.worst = ms, what[:140]
        for ms, what in _cpu_callbacks(log, offset):
            if ms > figures.cpu_ms:
                figures.cpu_ms, figures.cpu_worst = ms, what[:140]


def _begin(pid: int, log: Path) -> tuple[int, int]:
    """Where the log is now and the server's VmRSS (kB), its VmHWM reset to that."""
    offset = log.stat().st_size
    with contextlib.suppress(OSError):
        Path(f"/proc/{pid}/clear_refs").write_text("5")  # VmHWM := VmRSS
    return offset, _status_kb(pid, "VmRSS")


def _cpu_callbacks(log: Path, offset: int) -> list[tuple[float, str]]:
    """(CPU ms, callback) of each callback the loop probe wrote after `offset`."""
    with open(log, encoding="utf-8", errors="replace") as text:
        text.seek(offset)
        return [(float(m["cpu"]) * 1000, m["what"]) for m in CPU_CALLBACK.finditer(text.read())]


def _slow_callbacks(log: Path, offset: int) -> list[tuple[float, str]]:
    """(ms, callback) of each slow callback asyncio's debug mode logged after `offset`."""
    with open(log, encoding="utf-8", errors="replace") as text:
        text.seek(offset)
        return [(float(m["seconds"]) * 1000, m["what"]) for m in SLOW_CALLBACK.finditer(text.read())]


@contextlib.contextmanager
def server(root: Path, db_url: str) -> Iterator[tuple[str, int, Path]]:
    """`importer serve` of the checkout at `root` in asyncio debug mode: (URL, pid, log path)."""
    port = free_port()
    log = Path(tempfile.mkstemp(prefix="abuse-admission-", suffix=".log")[1])
    env = {**os.environ, "PYTHONPATH": f"{root}{os.pathsep}{LOOP_PROBE}", "DATABASE_URL": db_url,
           "IMPORTER_JWT_SECRET": SECRET, "IMPORTER_LOG_FORMAT": "text", "PYTHONASYNCIODEBUG": "1"}
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "importer.cli", "serve", "--port", str(port)],
                                cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base, proc)
        yield base, proc.pid, log
    finally:
        proc.terminate()
        proc.wait(timeout=20)


async def run_scenario(root: Path, db_url: str, scenario: Scenario) -> Figures:
    figures = Figures()
    with server(root, db_url) as (base, pid, log):
        await asyncio.sleep(1)  # start-up settles (the fork server, the pool)

        def new_token() -> str:
            return tokens.mint(SECRET, uuid.uuid4(), ttl=3600)

        def measure() -> contextlib.AbstractAsyncContextManager[Figures]:
            return measuring(pid, base, log, figures)

        figures.note = await scenario(base, new_token, measure)
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="run the scenarios whose name contains this")
    parser.add_argument("--server-root", type=Path, default=ROOT,
                        help="run the server (and its migrations) from this checkout")
    args = parser.parse_args()
    chosen = {name: s for name, s in SCENARIOS.items() if args.only in name}
    failed = False
    root = args.server_root.resolve()
    print(f"server: {root} (asyncio debug mode); goal: RSS growth < {GOAL_RSS_MB:.0f} MB, "
          f"no stall over {GOAL_STALL_MS:.0f} ms")
    with bench_database("bench-abuse-admission") as db_url:
        for name, scenario in chosen.items():
            f = asyncio.run(run_scenario(root, db_url, scenario))
            failed |= not f.ok
            print(f"{name:28} RSS growth {f.rss_peak_mb:7.1f} MB (children {f.children_peak_mb:6.1f} MB)  "
                  f"longest stall: CPU {f.cpu_ms:6.0f} ms, wall {f.stall_ms:6.0f} ms ({len(f.slow)} over 100 ms)  "
                  f"slowest /healthz {f.probe_ms:6.0f} ms  {f.seconds:5.1f} s  {'ok' if f.ok else 'MISSED'}  "
                  f"[{f.note}]")
            if f.cpu_worst:
                print(f"{'':28} most CPU: {f.cpu_worst}")
            if f.worst:
                print(f"{'':28} longest wall: {f.worst}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
