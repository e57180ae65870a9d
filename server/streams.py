"""What the hub hands each SSE client: a job's state framed once for every client, and a
client's bounded queue of them."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import attrs

from importer.model import TERMINAL

SEP = "\r\n"  # what aiohttp-sse writes, so that shared frames and its own sends look alike


def event_name(status: str) -> str:
    """The SSE `event:` of a job in this status."""
    return status if status in TERMINAL else "progress"


def frame(event_id: str, event: str, data: str) -> bytes:
    """One SSE event as aiohttp-sse's `send()` frames it; `data` is one line of JSON.

    Built once per notification and shared by every client (aiohttp-sse frames per call,
    which at 10,000 clients would mean 10,000 copies of each event).
    """
    return f"id: {event_id}{SEP}event: {event}{SEP}data: {data}{SEP}{SEP}".encode()


@attrs.frozen(kw_only=True)
class JobEvent:
    """One state of one job, parsed and serialised once, with its frames for both streams."""

    job_id: str
    user_id: str
    seq: int
    status: str
    data: str
    job_frame: bytes
    user_frame: bytes

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL

    @property
    def name(self) -> str:
        return event_name(self.status)

    @classmethod
    def from_job(cls, job: dict[str, Any], user_id: Any = None) -> JobEvent:
        """From a job object (as the trigger or import_job_json_v2 gives it); user_id is stripped."""
        job = dict(job)
        owner = job.pop("user_id", user_id)
        data = json.dumps(job, separators=(",", ":"), ensure_ascii=False, default=str)
        job_id, seq, status = str(job["id"]), int(job["seq"]), str(job["status"])
        name = event_name(status)
        return cls(job_id=job_id, user_id=str(owner), seq=seq, status=status, data=data,
                   job_frame=frame(str(seq), name, data),
                   user_frame=frame(f"{job_id}:{seq}", name, data))

    @classmethod
    def from_payload(cls, payload: str) -> JobEvent:
        return cls.from_job(json.loads(payload))


class Subscription:
    """A client's bounded queue of events. `get()` gives None once the stream must end."""

    __slots__ = ("_on_drop", "closed", "dropped", "key", "kind", "queue")

    def __init__(self, kind: str, key: str, maxsize: int):
        self.kind = kind
        self.key = key
        self.queue: asyncio.Queue[JobEvent | None] = asyncio.Queue(maxsize)
        self.closed = False
        self.dropped = False
        self._on_drop: Callable[[], None] | None = None

    def on_drop(self, callback: Callable[[], None]) -> None:
        """Called when the client is dropped for not keeping up (the view aborts its transport)."""
        self._on_drop = callback

    def deliver(self, event: JobEvent) -> None:
        if self.closed:
            return
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            self.dropped = True
            self.close()
            if self._on_drop is not None:
                self._on_drop()

    def close(self) -> None:
        """End the stream: whatever is queued is discarded, the reader gets None next."""
        if self.closed:
            return
        self.closed = True
        while not self.queue.empty():
            self.queue.get_nowait()
        self.queue.put_nowait(None)

    async def get(self) -> JobEvent | None:
        return await self.queue.get()
