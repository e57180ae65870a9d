"""Chaos during load: bench/load.py's load while workers and servers are SIGKILLed and Postgres restarts.

The load is bench/load.py's (two servers, two workers, `--users` users each submitting `--files`
CSV files into its wheel, `--watchers-per-user` open `/api/events` streams per user), with each
user's files spread over `--duration` seconds instead of all at once. Meanwhile, every 5–15 s
(`--gap-min`, `--gap-max`) one worker or one server process is SIGKILLed and started again at
once (a server on its port), and once in the run the Postgres server is restarted
(`pg_ctl restart -m fast`). Submits that meet a dead server or a 5xx are sent again with the same
`Idempotency-Key`, to the other server (a load balancer's job); watchers reconnect as a browser's
EventSource does, with `Last-Event-ID`. Faults are drawn from `--seed` (printed; pass it again to
replay the same schedule and files).

Afterwards (up to `--drain` seconds for the last imports to end) it checks and prints: every job
ended (completed, or failed only after its three attempts all died with their worker); one job
per submitted file; every completed job put exactly its file's rows on its wheel (names and dates
compared as multisets: none lost, none extra, none twice); every watcher received the terminal event
of every job of its user; no import task left in the queue and no task of any kind left marked
running on a worker that is gone; every completion e-mail sent; no process exited by itself. Figures:
faults of each kind, how long restarted servers took to answer /readyz, Postgres restart times,
submits sent again, watcher reconnects, and the time from the last fault to the last job's end.
Exit status 0 only if every check holds.

    .venv/bin/python bench/chaos.py                     # 10 minutes: the bench
    .venv/bin/python bench/chaos.py --seed 1234         # replay a run
    .venv/bin/python bench/chaos.py --short             # what `make test` runs (tests/faults/test_chaos.py)

Postgres is always one the bench starts itself (embedded, in a temporary directory, as the fault
tests do), never DATABASE_URL's: it is restarted. Workers beat every second, are declared dead
after 5 s of silence and recovery looks every 2 s (defaults 5, 30, 10), so a killed worker's
imports are retried within seconds rather than half a minute.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import aiohttp
import attrs
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.load import ENDED, LoadRun, Outcome, Plan, Services, pct, raise_file_limit
from tests.faults.support import OwnPostgres, own_postgres

# The worker timings of the note above, and no cap on streams per user (20 watchers per user,
# all on one server while the other restarts).
ENV = {"IMPORTER_WORKER_HEARTBEAT_SECONDS": "1", "IMPORTER_WORKER_STALLED_SECONDS": "5",
       "IMPORTER_RECOVERY_EVERY_SECONDS": "2", "IMPORTER_WORKER_SHUTDOWN_GRACE_SECONDS": "2",
       "IMPORTER_EMAIL_RETRY_WAIT": "1", "IMPORTER_MAX_STREAMS_PER_USER": "100000"}
# IMPORT_RETRY.max_attempts: an import whose worker dies this many times is failed, by design.
MAX_ATTEMPTS = 3
QUEUE_LEFT = ("SELECT status::text, count(*) FROM procrastinate_jobs WHERE task_name = 'run_import'"
              " AND status IN ('todo', 'doing') GROUP BY 1")
# Any task still marked running on a worker that is gone (killed, and nothing ran it again);
# 15 s: well past the 5 s after which recovery acts, and a live but starved worker still counts.
ORPHANED_TASKS = ("SELECT task_name, count(*) FROM procrastinate_jobs j WHERE status = 'doing' AND NOT EXISTS"
                  " (SELECT FROM procrastinate_workers w WHERE w.id = j.worker_id"
                  " AND w.last_heartbeat > now() - interval '15 seconds') GROUP BY 1")
EMAILS = "SELECT status, count(*) FROM import_emails GROUP BY 1"
EMAILS_QUEUED = "SELECT count(*) FROM import_emails WHERE status = 'queued'"
LAST_END = ("SELECT extract(epoch FROM max(finished_at))::float8 FROM import_jobs"
            " WHERE id = ANY(%(jobs)s::uuid[])")


@attrs.frozen(kw_only=True)
class ChaosConfig:
    duration: float = 600.0  # seconds of load, and of faults
    users: int = 50
    files: int = 16  # per user, spread over the duration
    big: int = 3
    big_rows: int = 100_000
    small_min: int = 20
    small_max: int = 2_000
    watchers_per_user: int = 20
    concurrency: int = 3  # per worker
    gap_min: float = 5.0
    gap_max: float = 15.0
    drain: float = 600.0  # seconds after the load for the last imports to end and be seen
    seed: int = attrs.field(factory=lambda: random.SystemRandom().randrange(1 << 32))

    @classmethod
    def short(cls, **changes: object) -> ChaosConfig:
        """A minute of load and at least three faults (one of each kind): what `make test` runs."""
        return attrs.evolve(cls(duration=60, users=20, files=4, big=2, big_rows=20_000, small_min=100,
                                small_max=1_500, watchers_per_user=5, drain=180), **changes)


@attrs.frozen(kw_only=True)
class Fault:
    at: float  # seconds after the load starts
    target: str  # worker0, worker1, server0, server1 or postgres

    @property
    def kind(self) -> str:
        return self.target.rstrip("0123456789")


def schedule(rng: random.Random, cfg: ChaosConfig) -> list[Fault]:
    """Faults `gap_min`–`gap_max` s apart over the duration: one Postgres restart, at least one
    worker and one server killed (when there are three faults or more), the rest either."""
    times: list[float] = []
    t = rng.uniform(cfg.gap_min, cfg.gap_max)
    while t < cfg.duration:
        times.append(t)
        t += rng.uniform(cfg.gap_min, cfg.gap_max)
    kinds = [rng.choice(("worker", "server")) for _ in times]
    if len(times) >= 3:
        restart, worker, server = rng.sample(range(len(times)), 3)
        kinds[worker], kinds[server], kinds[restart] = "worker", "server", "postgres"
    elif times:
        kinds[rng.randrange(len(times))] = "postgres"
    return [Fault(at=at, target=kind if kind == "postgres" else f"{kind}{rng.randrange(2)}")
            for at, kind in zip(times, kinds, strict=True)]


@attrs.define
class Injector:
    """Injects the scheduled faults and remembers what it did."""

    services: Services
    pg: OwnPostgres
    say: Callable[[str], None]
    counts: dict[str, int] = attrs.Factory(lambda: {"worker": 0, "server": 0, "postgres": 0})
    server_ready: list[float] = attrs.Factory(list)  # seconds from SIGKILL to /readyz 200
    pg_restart: list[float] = attrs.Factory(list)  # seconds pg_ctl restart took
    exited_by_themselves: list[str] = attrs.Factory(list)
    not_back: list[str] = attrs.Factory(list)  # servers started again that never answered /readyz
    last_fault: float | None = None  # wall-clock time of the last fault
    last_fault_monotonic: float | None = None
    _waits: list[asyncio.Task[None]] = attrs.Factory(list)
    _killing: set[str] = attrs.Factory(set)

    async def supervise(self) -> None:
        """Start again, as a supervisor would, any process that ended without being killed
        (each is a failure of the run, named with its exit status: see its log)."""
        while True:
            for name, proc in list(self.services.running.items()):
                if name not in self._killing and proc.poll() is not None:
                    self.exited_by_themselves.append(f"{name} (status {proc.returncode})")
                    self.say(f"  {name} exited by itself with status {proc.returncode}; started again")
                    self.services.start(name)
            await asyncio.sleep(0.5)

    async def run(self, faults: list[Fault], start: float) -> None:
        for fault in faults:
            await asyncio.sleep(start + fault.at - time.monotonic())
            self.last_fault, self.last_fault_monotonic = time.time(), time.monotonic()
            await self.inject(fault.target)
            self.counts[fault.kind] += 1
            self.say(f"  {time.monotonic() - start:6.1f} s  {fault.target}: "
                     + ("restarted" if fault.kind == "postgres" else "SIGKILL, started again"))
        await asyncio.gather(*self._waits)

    async def inject(self, target: str) -> None:
        if target == "postgres":
            self.pg_restart.append(await asyncio.to_thread(self.pg.restart))
            return
        killed = time.monotonic()
        self._killing.add(target)
        try:
            status = await asyncio.to_thread(self.services.kill, target)
            if status is not None:
                self.exited_by_themselves.append(f"{target} (status {status})")
            self.services.start(target)
        finally:
            self._killing.discard(target)
        if target.startswith("server"):
            self._waits.append(asyncio.create_task(asyncio.to_thread(self._until_ready, target, killed)))

    def _until_ready(self, name: str, since: float, within: float = 120) -> None:
        proc = self.services.running[name]
        while not self.services.ready(self.services.url_of(name)):
            if self.services.running[name] is not proc:
                return  # killed again before it was ready: the next fault's wait takes over
            if proc.poll() is not None or time.monotonic() > since + within:
                self.not_back.append(name)
                return
            time.sleep(0.1)
        self.server_ready.append(time.monotonic() - since)


@attrs.define
class ChaosResult:
    failures: list[str]
    report: list[str]
    counts: dict[str, int]


async def chaos(cfg: ChaosConfig, pg: OwnPostgres, services: Services, say: Callable[[str], None]) -> ChaosResult:
    rng = random.Random(cfg.seed)
    plan = Plan.make(rng, users=cfg.users, files=cfg.files, big=cfg.big, big_rows=cfg.big_rows,
                     small_min=cfg.small_min, small_max=cfg.small_max, spread=cfg.duration)
    faults = schedule(rng, cfg)
    say(f"seed {cfg.seed} (bench/chaos.py --seed {cfg.seed} replays this run)")
    say(f"plan: {cfg.users} users × {cfg.files} files = {plan.total_jobs} imports over {cfg.duration:.0f} s, "
        f"{plan.total_rows:,} rows ({plan.big} of {cfg.big_rows:,}); {cfg.users * cfg.watchers_per_user} "
        f"reconnecting SSE watchers on 2 servers; 2 workers × concurrency {cfg.concurrency}; {len(faults)} faults")
    injector = Injector(services, pg, say)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        load = LoadRun(plan, services.urls, session)
        await load.create_wheels()
        broken = await load.connect_watchers(cfg.watchers_per_user, reconnect=True)
        say(f"watchers connected: {len(load.all_watchers) - broken}/{len(load.all_watchers)}")
        start = time.monotonic()
        supervisor = asyncio.create_task(injector.supervise())
        await asyncio.gather(
            # A client keeps trying while the service says to (503 with Retry-After during a
            # Postgres restart); on a loaded machine one submit's tries outlasted 120 s.
            load.submit_all(start, retry_for=max(600.0, 2 * cfg.duration), skip_duplicates=False),
            injector.run(faults, start))
        say(f"load and faults over after {time.monotonic() - start:.1f} s; waiting for the last imports")
        drained = time.monotonic() + cfg.drain
        await load.wait_seen(drained)
        end = load.last_end()
        await load.close()
        await asyncio.to_thread(wait_for_emails, services.env["DATABASE_URL"], drained)
        supervisor.cancel()
        await asyncio.gather(supervisor, return_exceptions=True)

    # -- checks -------------------------------------------------------------------------
    failures = list(load.failures[:10])
    out = Outcome.read(services.env["DATABASE_URL"], load)
    with psycopg.connect(services.env["DATABASE_URL"]) as conn:
        left = dict(conn.execute(QUEUE_LEFT).fetchall())
        last_end = conn.execute(LAST_END, {"jobs": list(load.submitted)}).fetchone()[0]
        orphaned = dict(conn.execute(ORPHANED_TASKS).fetchall())
        emails = dict(conn.execute(EMAILS).fetchall())
    not_ended = {j: s for j, s in out.status.items() if s not in ENDED}
    if not_ended:
        failures.append(f"{len(not_ended)} jobs not ended: {dict(list(not_ended.items())[:5])}")
    if len(load.submitted) != plan.total_jobs or out.jobs_in_database != plan.total_jobs:
        failures.append(f"{plan.total_jobs} files, {len(load.submitted)} jobs submitted, "
                        f"{out.jobs_in_database} jobs in the database")
    unexplained = {j: (s, out.attempts[j], out.errors[j]) for j, s in out.status.items()
                   if s in ENDED and s != "completed" and not (s == "failed" and out.attempts[j] >= MAX_ATTEMPTS)}
    if unexplained:
        failures.append(f"jobs ended neither completed nor failed after {MAX_ATTEMPTS} attempts "
                        f"(status, attempts, error): {dict(list(unexplained.items())[:5])}")
    if out.missing or out.extra or out.twice:
        failures.append(f"items: {sum(out.missing.values())} rows of completed files missing "
                        f"{dict(list(out.missing.items())[:3])}, {sum(out.extra.values())} items no completed file "
                        f"has {dict(list(out.extra.items())[:3])}, {out.twice} items twice")
    unseen = load.unseen()
    if unseen:
        failures.append(f"{unseen} (watcher, job) terminal events never arrived")
    if left:
        failures.append(f"import tasks left in the queue: {left}")
    if orphaned:
        failures.append(f"tasks left running on workers that are gone: {orphaned}")
    if set(emails) - {"sent"}:
        failures.append(f"e-mails not sent: {emails}")
    exited = injector.exited_by_themselves
    if exited:
        failures.append(f"processes that exited by themselves: {exited}")
    if injector.not_back:
        failures.append(f"servers not ready again within 120 s of their restart: {injector.not_back}")

    # -- figures ------------------------------------------------------------------------
    report: list[str] = []
    attempts: dict[int, int] = {}
    for a in out.attempts.values():
        attempts[a] = attempts.get(a, 0) + 1
    c = injector.counts
    report.append(f"faults: {c['worker']} worker kills, {c['server']} server kills, {c['postgres']} Postgres restarts "
                  f"(restart took {', '.join(f'{s:.1f}' for s in injector.pg_restart)} s); killed servers "
                  f"answered /readyz after p50 {pct(injector.server_ready, 50):.1f} s, "
                  f"max {max(injector.server_ready, default=0):.1f} s")
    latency = load.submit_latency
    report.append(f"clients: submit → 202 p50 {pct(latency, 50):.2f} s, p99 {pct(latency, 99):.2f} s, "
                  f"max {max(latency, default=0):.2f} s (retries included); "
                  f"{load.submit_retries} submits sent again; watchers reconnected "
                  f"{sum(w.reconnects for w in load.all_watchers)} times ({sum(w.refused for w in load.all_watchers)}"
                  f" answers other than 200)")
    report.append(f"jobs: {out.by_status} of {plan.total_jobs}; attempts per job: {dict(sorted(attempts.items()))}")
    report.append(f"items: {out.items:,} on the wheels for {out.expected_items:,} rows of the completed files "
                  f"({sum(out.missing.values())} missing, {sum(out.extra.values())} extra, {out.twice} twice); "
                  f"completed jobs with exactly their file's items: "
                  f"{out.exact_jobs}/{out.by_status.get('completed', 0)}")
    report.append(f"e-mails: {emails}")
    report.append(f"watchers: {unseen} (watcher, job) ends missed of "
                  f"{sum(len(load.jobs_of()[u]) * len(ws) for u, ws in load.watchers.items())}")
    if injector.last_fault is not None and injector.last_fault_monotonic is not None and last_end is not None:
        after = last_end - injector.last_fault
        report.append(f"from the last fault to the last job's end: {after:.1f} s "
                      f"(to its terminal event at the last watcher: {end - injector.last_fault_monotonic:.1f} s"
                      f"{'; negative: every job had ended before the last fault' if after < 0 else ''}); "
                      f"whole run {end - start:.1f} s from the first submit, {out.items / (end - start):,.0f} items/s")
    report.append("database connections at the end: " + ", ".join(f"{app}={n}" for app, n in out.connections))
    for line in report:
        say(line)
    for f in failures:
        say(f"FAIL: {f}")
    say("RESULT: " + ("OK" if not failures else "FAILED") + f" (seed {cfg.seed})")
    return ChaosResult(failures=failures, report=report, counts=dict(c))


def wait_for_emails(db_url: str, until: float) -> None:
    """Until no completion e-mail is waiting to be sent, or `until` (monotonic) passes."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        while conn.execute(EMAILS_QUEUED).fetchone()[0] and time.monotonic() < until:
            time.sleep(0.5)


def run_chaos(cfg: ChaosConfig, data_dir: Path, say: Callable[[str], None] = print) -> ChaosResult:
    """The whole run on a Postgres and services of its own; service logs stay in `data_dir`."""
    raise_file_limit()
    with own_postgres() as pg:
        services = Services(pg.url, data_dir, cfg.concurrency, env=ENV)
        try:
            services.wait_ready()
            return asyncio.run(chaos(cfg, pg, services, say))
        finally:
            services.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--short", action="store_true", help="the short run of the tests (other options apply on top)")
    defaults = ChaosConfig(seed=0)
    for field in attrs.fields(ChaosConfig):
        flag = "--" + field.name.replace("_", "-")
        parser.add_argument(flag, type=type(getattr(defaults, field.name)), default=None,
                            help=f"default {getattr(defaults, field.name)}" if field.name != "seed" else "random")
    args = parser.parse_args()
    changes = {f.name: getattr(args, f.name) for f in attrs.fields(ChaosConfig) if getattr(args, f.name) is not None}
    cfg = ChaosConfig.short(**changes) if args.short else ChaosConfig(**changes)
    data_dir = Path(tempfile.mkdtemp(prefix="importer-chaos-"))

    def say(line: str) -> None:
        print(line, flush=True)

    result = run_chaos(cfg, data_dir, say)
    print(f"(service logs in {data_dir})")
    return 0 if not result.failures else 1


if __name__ == "__main__":
    sys.exit(main())
