"""asyncio's accept errors are logged at most once per interval, the next one counting those left out."""

from __future__ import annotations

import logging

from importer.logs import RepeatedAcceptErrors

ACCEPT = "socket.accept() out of system resource\nsocket: <asyncio.TransportSocket fd=9>"


def record(msg: str, name: str = "asyncio") -> logging.LogRecord:
    try:
        raise OSError(24, "Too many open files")
    except OSError as exc:
        return logging.LogRecord(name, logging.ERROR, __file__, 1, msg, None, (OSError, exc, exc.__traceback__))


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_of_accept_errors_gives_one_line_a_second_with_a_count():
    """1,000 errors within a second: the first passes whole; the next one after a second says 999
    were left out, without repeating the traceback."""
    clock = Clock()
    quiet = RepeatedAcceptErrors(clock=clock)
    passed = []
    for _ in range(1000):
        r = record(ACCEPT)
        if quiet.filter(r):
            passed.append(r)
        clock.now += 0.0005
    clock.now += 1.0
    later = record(ACCEPT)
    assert quiet.filter(later)
    assert len(passed) == 1 and passed[0].exc_info is not None
    assert later.getMessage().startswith("socket.accept() out of system resource (999 more like it")
    assert later.exc_info is None


def test_other_records_always_pass():
    """Other asyncio errors, and any other logger's, are not held back however often they come."""
    clock = Clock()
    quiet = RepeatedAcceptErrors(clock=clock)
    assert all(quiet.filter(record("Task exception was never retrieved")) for _ in range(5))
    assert all(quiet.filter(record(ACCEPT, name="server.hub")) for _ in range(5))
