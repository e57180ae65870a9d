"""One LISTEN connection per process, fanned out by writing each event's shared frame to every client."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import time
from datetime import datetime, timedelta
from typing import Any, Literal

import psycopg
from aiohttp import web
from psycopg.rows import dict_row

from importer.db import AsyncConn
from importer.queries import q
from server import metrics
from server.streams import PING_INTERVAL, JobEvent, Subscription

log = logging.getLogger(__name__)

CHANNEL = "import_jobs"
APPLICATION_NAME = "importer-hub"
# A client that is not keeping up is dropped and comes back with Last-Event-ID. Before its stream
# is live: when this many events are held for it. 10 updates per second per job gives it several
# seconds of slack.
QUEUE_SIZE = 64
# Live: when this many bytes wait in the event loop for its socket, beyond the kernel's send
# buffer (events.SEND_BUFFER): some 100 events of ~300 bytes, ten seconds at 10 updates a second.
BUFFER_LIMIT = 32 * 1024
# A half-open TCP connection stays silent; a query every few seconds finds it dead.
CHECK_INTERVAL = 5.0
CHECK_TIMEOUT = 5.0
BACKOFF_FIRST = 0.2
BACKOFF_MAX = 10.0
# How often the hub looks for live streams that have been quiet for streams.PING_INTERVAL.
PING_TICK = 1.0
# Jobs of served users that changed this long before the last moment the hub knew it was
# listening are re-read after a reconnect (covers notifications in flight when it dropped).
REREAD_MARGIN = timedelta(seconds=30)


class Hub:
    """LISTENs on one dedicated autocommit connection and routes each job event by job and user.

    After losing that connection it reconnects with capped, jittered backoff, and re-reads
    every job it serves, so that no client misses a change made while it was not listening.
    """

    def __init__(self, conninfo: str, *, queue_size: int = QUEUE_SIZE, buffer_limit: int = BUFFER_LIMIT,
                 check_interval: float = CHECK_INTERVAL, check_timeout: float = CHECK_TIMEOUT,
                 reread_margin: timedelta = REREAD_MARGIN):
        self._conninfo = conninfo
        self.queue_size = queue_size
        self.buffer_limit = buffer_limit
        self._check_interval = check_interval
        self._check_timeout = check_timeout
        self._reread_margin = reread_margin
        self._by_job: dict[str, set[Subscription]] = {}
        self._by_user: dict[str, set[Subscription]] = {}
        self._conn: AsyncConn | None = None
        self._task: asyncio.Task[None] | None = None
        self._pinger: asyncio.Task[None] | None = None
        self.ping_interval = PING_INTERVAL
        self._listening = asyncio.Event()
        self._stopping = False
        self._last_alive: datetime | None = None  # database clock, last proof of listening
        self.reconnects = 0
        self.dropped_clients = 0

    # -- subscriptions ------------------------------------------------------------------

    @property
    def is_listening(self) -> bool:
        return self._listening.is_set()

    @property
    def subscriber_count(self) -> int:
        return sum(map(len, self._by_job.values())) + sum(map(len, self._by_user.values()))

    def subscribe_job(self, job_id: Any) -> Subscription:
        return self._add(self._by_job, "job", str(job_id))

    def subscribe_user(self, user_id: Any) -> Subscription:
        return self._add(self._by_user, "user", str(user_id))

    def unsubscribe(self, sub: Subscription) -> None:
        table = self._by_job if sub.kind == "job" else self._by_user
        subs = table.get(sub.key)
        if subs is not None:
            subs.discard(sub)
            if not subs:
                del table[sub.key]
        sub.close()

    def _add(self, table: dict[str, set[Subscription]], kind: Literal["job", "user"], key: str
             ) -> Subscription:
        sub = Subscription(kind, key, self.queue_size, self.buffer_limit)
        if self._stopping:
            sub.close()
        else:
            table.setdefault(key, set()).add(sub)
        return sub

    def publish(self, event: JobEvent) -> None:
        """Hand one event to every subscriber of its job and of its user, never waiting.

        A live subscriber gets the frame written to its transport here, in this loop, rather than
        through a queue and a task of its own. With a task step per client per event, 10,000
        clients of 10 jobs at 1 update/s took 35-38 % of a core and NOTIFY -> last client was p99
        7.8-9.7 s on the shared machine; written here, 18-21 % and 0.5-3 s, the rest being
        collections and ping tasks (server/gc_freeze.py, ping_idle) (bench/sse_fanout.py).
        """
        for table, key in ((self._by_job, event.job_id), (self._by_user, event.user_id)):
            subs = table.get(key)
            if not subs:
                continue
            for sub in tuple(subs):
                sub.deliver(event)
                if sub.dropped:
                    self.dropped_clients += 1
                    self.unsubscribe(sub)

    def ping_idle(self) -> None:
        """A comment line to every live stream quiet for ping_interval; a client found gone ends.

        One sweep a second here instead of aiohttp-sse's ping task per client: 10,000 clients'
        tasks woke 1,000 times a second, each with two timers, and those timers, living 10 s,
        were what filled the old generation between full collections.
        """
        now = time.monotonic()
        for table in (self._by_job, self._by_user):
            for subs in tuple(table.values()):
                for sub in tuple(subs):
                    sub.ping(now, self.ping_interval)
                    if sub.dropped:
                        self.dropped_clients += 1
                        self.unsubscribe(sub)

    async def _ping_loop(self) -> None:
        while True:
            await asyncio.sleep(PING_TICK)
            self.ping_idle()

    def close_streams(self) -> None:
        """End every stream (server shutdown); new subscriptions end at once."""
        self._stopping = True
        for table in (self._by_job, self._by_user):
            for subs in table.values():
                for sub in subs:
                    sub.close()
            table.clear()

    # -- the LISTEN connection ----------------------------------------------------------

    async def start(self, *, wait: float | None = 30.0) -> None:
        """Start listening; with `wait`, fail start-up unless listening within that many seconds."""
        self._task = asyncio.create_task(self._run(), name="importer-hub")
        self._pinger = asyncio.create_task(self._ping_loop(), name="importer-hub-pings")
        if wait is not None:
            try:
                async with asyncio.timeout(wait):
                    await self._listening.wait()
            except TimeoutError:
                await self.stop()
                raise

    async def stop(self) -> None:
        self.close_streams()
        if self._pinger is not None:
            self._pinger.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pinger
            self._pinger = None
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self._close_conn()

    async def _close_conn(self) -> None:
        conn, self._conn = self._conn, None
        self._listening.clear()
        if conn is not None:
            with contextlib.suppress(Exception):
                await conn.close()

    async def _run(self) -> None:
        delay = BACKOFF_FIRST
        first = True
        # Database time up to which every change has reached the subscribers (by notification
        # or by a completed re-read); the next re-read starts there.
        mark: datetime | None = None
        while True:
            synced = False
            try:
                await self._connect()
                if not first:
                    self.reconnects += 1
                    await self._reread(mark)
                first = False
                synced = True
                delay = BACKOFF_FIRST
                await self._listen()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # any failure of the connection: start again
                log.warning("hub: LISTEN connection lost (%s); reconnecting in %.1fs",
                            exc.__class__.__name__, delay)
            if synced:
                mark = self._last_alive
            await self._close_conn()
            # Full jitter: many server processes losing one database do not return in step.
            await asyncio.sleep(random.uniform(delay / 2, delay))
            delay = min(delay * 2, BACKOFF_MAX)

    async def _connect(self) -> None:
        conn = await psycopg.AsyncConnection.connect(
            self._conninfo, autocommit=True, row_factory=dict_row,
            application_name=APPLICATION_NAME, connect_timeout=10,
            # The kernel notices a vanished peer too, not only the periodic check.
            keepalives=1, keepalives_idle=10, keepalives_interval=5, keepalives_count=3)
        self._conn = conn
        await self._check()
        self._listening.set()
        log.info("hub: listening on %s", CHANNEL)

    async def _check(self) -> None:
        conn = self._conn
        assert conn is not None

        async def listen_and_time() -> datetime:
            cur = await conn.execute(q("hub_listen"))
            cur.nextset()  # past LISTEN's empty result, to SELECT now()
            row = await cur.fetchone()
            assert row is not None  # SELECT now() gives one row
            now: datetime = row["now"]
            return now

        # Not asyncio.timeout: cancelling a query makes psycopg send a cancel request and wait
        # up to 5 s more for a connection that is already dead. Unanswered in time, the
        # connection is given up (closed by _run), which ends the pending query too.
        check = asyncio.ensure_future(listen_and_time())
        # Left behind on a time-out or when the hub is stopped mid-check, it still ends (with
        # an error, once the connection is closed): mark that error as seen.
        check.add_done_callback(lambda t: t.cancelled() or t.exception())
        done, _ = await asyncio.wait({check}, timeout=self._check_timeout)
        if not done:
            raise TimeoutError(f"no answer on the LISTEN connection in {self._check_timeout}s")
        self._last_alive = check.result()

    async def _listen(self) -> None:
        assert self._conn is not None
        while True:
            # notifies() holds the connection; between its windows the check query runs, and
            # what arrives meanwhile waits in psycopg's backlog for the next window.
            async for note in self._conn.notifies(timeout=self._check_interval):
                try:
                    job = json.loads(note.payload)
                    event = JobEvent.from_job(job)
                except (ValueError, KeyError, TypeError):
                    log.error("hub: unreadable notification %.200r", note.payload)
                    continue
                self.publish(event)
                metrics.observe_notification(job)
            await self._check()

    async def _reread(self, mark: datetime | None) -> None:
        """Publish the current state of every served job and of the served users' recent jobs.

        Clients filter by seq, so what they already have is not sent again.
        """
        assert self._conn is not None
        if not self._by_job and not self._by_user:
            return
        since = (mark or datetime.now().astimezone()) - self._reread_margin
        cur = await self._conn.execute(q("hub_jobs_reread"), {
            "job_ids": list(self._by_job), "user_ids": list(self._by_user), "since": since})
        for row in await cur.fetchall():
            self.publish(JobEvent.from_job(row["job"]))


# The app's hub, set by server.app's hub_ctx.
HUB = web.AppKey("hub", Hub)
