"""Bench-only (bench/abuse_admission.py puts this folder on the server's PYTHONPATH): every
event-loop callback that used more than 20 ms of the loop thread's CPU is written to stderr as
"loop-probe: cpu S wall S <callback>". CPU time, unlike asyncio debug mode's wall-clock
"took N seconds", does not count the time the process waited for a core: on a shared machine
the wall clock says more about the neighbours than about the server."""

import asyncio.events
import sys
import time

_THRESHOLD = 0.02
_run = asyncio.events.Handle._run


def _timed_run(self: asyncio.events.Handle) -> None:
    cpu, wall = time.thread_time(), time.perf_counter()
    _run(self)
    cpu, wall = time.thread_time() - cpu, time.perf_counter() - wall
    if cpu > _THRESHOLD:
        sys.stderr.write(f"loop-probe: cpu {cpu:.3f} wall {wall:.3f} {self!r:.160}\n")


asyncio.events.Handle._run = _timed_run  # type: ignore[method-assign]
