"""The harness of bench/abuse.py: a server process per scenario, its peak RSS growth and its
longest event-loop stall while the scenario runs, and the table of figures.

A scenario is an async function given a `Run` (the server's URL, a token maker, its database)
and registered with `Scenario(name, function, env)`; one written as `function(base, new_token,
measure)` is registered with `scenario_of_parts(name, function, env)`. It seeds what it needs first (fast, in SQL,
straight into `run.db_url`), then wraps the part under test in `async with run.measure():`, and
returns a short note for the table (what it did: "1,000,000 items in 100 pages"). Each scenario
gets a fresh `importer serve` process (no worker) on one shared, migrated database, so one
scenario's leftovers never count against the next.

- RSS: the server's peak resident set size during the block minus its RSS at the start: the
  kernel's high-water mark (VmHWM, reset through /proc/<pid>/clear_refs when the block starts),
  cross-checked by sampling VmRSS every 10 ms. "kept" is the growth still resident at the end.
- Stalls (`--probe`): "lateness" (the default) puts a task on the server's loop that sleeps 2 ms
  at a time and logs every wake-up later than `--stall-ms` (10 ms by default) with the loop
  thread's CPU time over that wait: the stall figure is that CPU time, what the stall would last
  on an idle machine (on a shared one the wall time, shown beside it, is mostly waiting for a
  core). "debug" is asyncio's own slow-callback timing: debug mode with
  `loop.slow_callback_duration` at `--stall-ms`, asyncio logging "Executing <callback> took N
  seconds" for each slower callback, which names the callback but knows only wall time, and
  debug mode costs CPU on every callback (it records where each was scheduled).
- Goal (issue 17): RSS growth under 100 MB and no stall over 100 ms per scenario; the exit code
  is 1 when a scenario misses it.

`--server-root DIR` runs the server (and its migrations) from another checkout, e.g. an export
of an older commit, so before/after figures come from one bench:
`git archive <commit> | tar -x -C /tmp/before`, then `--server-root /tmp/before`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import submit_latency  # noqa: E402
from bench.submit_latency import free_port, wait_ready  # noqa: E402
from importer import tokens  # noqa: E402

SECRET = "bench-secret-" + "0123456789" * 4
GOAL_RSS_MB = 100.0
GOAL_STALL_MS = 100.0
MB = 1024 * 1024
# asyncio's own words (base_events._run_once, debug mode) for a callback over the threshold.
SLOW_CALLBACK = re.compile(r"Executing (?P<what>.*?) took (?P<seconds>\d+(?:\.\d+)?) seconds"
                           r"(?: \(cpu (?P<cpu>\d+(?:\.\d+)?) seconds\))?")


@dataclass
class Figures:
    """One scenario's measurement: seconds of the measured block, MB of peak and retained RSS
    growth over the block's start, the longest stall in ms (0 when none reached --stall-ms; CPU
    time of the loop thread with the lateness probe, wall time in debug mode) and its wall time,
    how many stalls exceeded the goal, and the callback of the longest one."""

    seconds: float = 0.0
    rss_peak_mb: float = 0.0
    rss_retained_mb: float = 0.0
    stall_ms: float = 0.0
    stall_wall_ms: float = 0.0
    stalls_over_goal: int = 0
    worst_callback: str = ""

    @property
    def ok(self) -> bool:
        return self.rss_peak_mb < GOAL_RSS_MB and self.stall_ms <= GOAL_STALL_MS


def _status_kb(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise KeyError(key)


def _reset_peak(pid: int) -> bool:
    """Reset the process's VmHWM to its current RSS (Linux >= 4.0); False when not allowed."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
        return True
    except OSError:
        return False


class _RssSampler(threading.Thread):
    """VmRSS every `interval` s in a thread (the bench's own loop may be busy parsing)."""

    def __init__(self, pid: int, interval: float = 0.01):
        super().__init__(daemon=True)
        self.pid, self.interval, self.peak_kb = pid, interval, 0
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            with contextlib.suppress(OSError, KeyError):
                self.peak_kb = max(self.peak_kb, _status_kb(self.pid, "VmRSS"))
            self._halt.wait(self.interval)

    def stop(self) -> int:
        self._halt.set()
        self.join()
        return self.peak_kb


@dataclass
class Run:
    """What a scenario is given: the server (`base` URL, `pid`), its database (`db_url`, for
    seeding as the superuser) and `measure()`, to be entered once around the part under test."""

    base: str
    pid: int
    db_url: str
    log_path: Path
    figures: Figures = field(default_factory=Figures)
    measured: bool = False

    def token(self, user: uuid.UUID) -> str:
        return tokens.mint(SECRET, user, ttl=6 * 3600)

    def headers(self, user: uuid.UUID) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(user)}"}

    def new_token(self) -> str:
        """A bearer token of a user no one has used yet."""
        return self.token(uuid.uuid4())

    @contextlib.asynccontextmanager
    async def measure(self) -> AsyncIterator[Figures]:
        """Measure the block: the server's peak RSS growth and its longest loop stall."""
        if self.measured:
            raise RuntimeError("measure() is entered once per scenario")
        self.measured = True
        offset = self.log_path.stat().st_size
        start_kb = _status_kb(self.pid, "VmRSS")
        exact = _reset_peak(self.pid)
        sampler = _RssSampler(self.pid)
        sampler.start()
        started = time.perf_counter()
        try:
            yield self.figures
        finally:
            self.figures.seconds = time.perf_counter() - started
            await asyncio.sleep(0.2)  # let the server log a stall that ended with the block
            peak_kb = sampler.stop()
            if exact:
                peak_kb = max(peak_kb, _status_kb(self.pid, "VmHWM"))
            self.figures.rss_peak_mb = (peak_kb - start_kb) / 1024
            self.figures.rss_retained_mb = (_status_kb(self.pid, "VmRSS") - start_kb) / 1024
            self._stalls(offset)

    def _stalls(self, offset: int) -> None:
        with open(self.log_path, encoding="utf-8", errors="replace") as log:
            log.seek(offset)
            text = log.read()
        for found in SLOW_CALLBACK.finditer(text):
            wall_ms = float(found["seconds"]) * 1000
            self.figures.stall_wall_ms = max(self.figures.stall_wall_ms, wall_ms)
            # The lateness probe also gives the loop thread's CPU time over the stall: what it
            # would have lasted on an idle machine. Debug mode only knows the wall time.
            ms = float(found["cpu"]) * 1000 if found["cpu"] else wall_ms
            if ms > GOAL_STALL_MS:
                self.figures.stalls_over_goal += 1
            if ms > self.figures.stall_ms:
                self.figures.stall_ms, self.figures.worst_callback = ms, found["what"][:160]


@dataclass(frozen=True)
class Scenario:
    """A named scenario: `function(run)` returns the note printed beside its figures; `env`
    is added to the server's environment (a limit the scenario needs raised, say)."""

    name: str
    function: Callable[[Run], Awaitable[str]]
    env: dict[str, str] = field(default_factory=dict)


def scenario_of_parts(name: str, function: Callable[[str, Callable[[], str], Callable[[], Any]], Awaitable[str]],
                      env: dict[str, str] | None = None) -> Scenario:
    """A Scenario of a function written as `function(base, new_token, measure)` (the form of
    bench/abuse_admission.py's scenarios): the server's URL, a maker of new users' tokens, and
    the measuring context manager."""

    async def run(run: Run) -> str:
        return await function(run.base, run.new_token, run.measure)

    return Scenario(name, run, env or {})


# ---------- the database and the server ----------

def _server_env(root: Path, db_url: str, **extra: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(root), "DATABASE_URL": db_url, "IMPORTER_JWT_SECRET": SECRET,
            "IMPORTER_LOG_FORMAT": "text", **extra}


def bench_database(root: Path) -> contextlib.AbstractContextManager[str]:
    """submit_latency's database of its own, migrated by `importer migrate` of the checkout at
    `root` (an older one's schema for a before/after run), dropped afterwards: its URL."""

    def migrate_with(db_url: str) -> None:
        subprocess.run([sys.executable, "-m", "importer.cli", "migrate"], cwd=root,
                       env=_server_env(root, db_url), check=True, stdout=subprocess.DEVNULL)

    return submit_latency.bench_database("bench-abuse", migrate_with=migrate_with)


@contextlib.contextmanager
def debug_server(root: Path, db_url: str, stall_ms: float, env: dict[str, str], probe: str = "debug"
                 ) -> Iterator[Run]:
    """`importer serve` of `root` with its stalls reported (`probe`: LAUNCHER's mode), ready."""
    port = free_port()
    log_path = Path(tempfile.mkstemp(prefix="bench-abuse-", suffix=".log")[1])
    command = [sys.executable, "-c", LAUNCHER, probe, str(stall_ms / 1000), "serve", "--port", str(port)]
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(command, cwd=root, stdout=subprocess.DEVNULL, stderr=log,
                                env=_server_env(root, db_url, **env))
    base = f"http://127.0.0.1:{port}"
    try:
        try:
            wait_ready(base, proc)
        except SystemExit:
            print(log_path.read_text()[-3000:], file=sys.stderr)
            raise
        yield Run(base=base, pid=proc.pid, db_url=db_url, log_path=log_path)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log_path.unlink(missing_ok=True)


# The server's entry point (`python -c`, run in the server's checkout so that its code is
# imported): argv[1] is how stalls are seen, argv[2] the threshold in seconds, the rest is the
# `importer` command line. "debug": every event loop runs in asyncio's debug mode with
# slow_callback_duration at the threshold, and asyncio logs each slower callback. "lateness": a
# task on the loop sleeps PROBE_TICK at a time and logs each wake-up later than the threshold
# (the loop was held that long), without debug mode's cost on every callback.
LAUNCHER = """
import asyncio, sys, time

MODE, THRESHOLD = sys.argv[1], float(sys.argv[2])
PROBE_TICK = 0.002

async def probe():
    while True:
        started, cpu = time.perf_counter(), time.thread_time()
        await asyncio.sleep(PROBE_TICK)
        late = time.perf_counter() - started - PROBE_TICK
        if late > THRESHOLD:
            busy = time.thread_time() - cpu
            print(f"Executing <event loop held> took {late:.3f} seconds (cpu {busy:.3f} seconds)",
                  file=sys.stderr, flush=True)

class StallPolicy(asyncio.DefaultEventLoopPolicy):
    def new_event_loop(self):
        loop = super().new_event_loop()
        if MODE == "debug":
            loop.set_debug(True)
            loop.slow_callback_duration = THRESHOLD
        else:
            loop.call_soon(lambda: loop.create_task(probe()))
        return loop

asyncio.set_event_loop_policy(StallPolicy())
from importer.cli.main import main
sys.exit(main(sys.argv[3:]))
"""


# ---------- the table ----------

def print_table(rows: list[tuple[Scenario, Figures, str]], out: Callable[[str], None] = print) -> None:
    out(f"{'scenario':<34} {'seconds':>8} {'RSS +MB':>8} {'kept MB':>8} {'stall ms':>9} {'(wall)':>7} "
        f"{'>100ms':>7}  goal  note")
    for scenario, figures, note in rows:
        out(f"{scenario.name:<34} {figures.seconds:>8.1f} {figures.rss_peak_mb:>8.1f} "
            f"{figures.rss_retained_mb:>8.1f} {figures.stall_ms:>9.0f} {figures.stall_wall_ms:>7.0f} "
            f"{figures.stalls_over_goal:>7}  {'ok  ' if figures.ok else 'MISS'}  {note}")
    for scenario, figures, _ in rows:
        if figures.worst_callback:
            out(f"  longest stall in {scenario.name!r}: {figures.worst_callback}")


async def _run_one(scenario: Scenario, run: Run) -> tuple[Figures, str]:
    note = await scenario.function(run)
    if not run.measured:
        raise RuntimeError(f"scenario {scenario.name!r} never entered run.measure()")
    return run.figures, note


def main(scenarios: Sequence[Scenario], argv: Sequence[str] | None = None, description: str = "") -> int:
    """Run the scenarios (all, or those `--only` names by a part of their name), print the table;
    1 when one missed the goal."""
    parser = argparse.ArgumentParser(description=description or __doc__.splitlines()[0])
    parser.add_argument("--only", action="append", default=[],
                        help="run the scenarios whose name contains this text (repeatable)")
    parser.add_argument("--stall-ms", type=float, default=10.0,
                        help="report event-loop callbacks longer than this (asyncio slow_callback_duration)")
    parser.add_argument("--probe", choices=("lateness", "debug"), default="lateness",
                        help="how stalls are seen: asyncio debug mode's slow-callback warnings (the issue's "
                             "measure), or a task that notes how late the loop wakes it (no debug-mode cost)")
    parser.add_argument("--server-root", type=Path, default=ROOT,
                        help="run the server and its migrations from this checkout (default: this one)")
    args = parser.parse_args(argv)
    chosen = [s for s in scenarios if not args.only or any(o in s.name for o in args.only)]
    if not chosen:
        parser.error("no scenario matches --only")
    root = args.server_root.resolve()
    print(f"server code: {root}; stalls ({args.probe}) reported from {args.stall_ms:g} ms; "
          f"goal: RSS growth < {GOAL_RSS_MB:g} MB, no stall over {GOAL_STALL_MS:g} ms", flush=True)
    rows = []
    with bench_database(root) as db_url:
        for scenario in chosen:
            with debug_server(root, db_url, args.stall_ms, scenario.env, args.probe) as run:
                figures, note = asyncio.run(_run_one(scenario, run))
            rows.append((scenario, figures, note))
            print_table(rows[-1:], lambda line: print("  " + line, flush=True))
    print()
    print_table(rows)
    return 0 if all(f.ok for _, f, _ in rows) else 1
