"""Run the server module under observation or on another event loop, for bench/sse_fanout.py:

    server_probe.py [--gc-log] [--uvloop] -m importer.cli serve ...

--gc-log prints every generation-2 collection: when, how long the process stood still, and how
many objects are frozen (where a stream's pauses come from). --uvloop runs the server on
uvloop's event loop instead of asyncio's (measured as a lever; not a dependency of the project).
"""

from __future__ import annotations

import gc
import runpy
import sys
import time

_started = 0.0


def _report(phase: str, info: dict[str, int]) -> None:
    global _started
    if info["generation"] != 2:
        return
    if phase == "start":
        _started = time.perf_counter()
        return
    pause_ms = (time.perf_counter() - _started) * 1000
    # No gc.get_objects() here: listing a million objects would lengthen the pause it reports on.
    print(f"server_probe: {time.strftime('%H:%M:%S')} gen2 collection {pause_ms:.0f} ms,"
          f" {info['collected']} collected, {gc.get_freeze_count()} frozen", file=sys.stderr, flush=True)


def main() -> None:
    args = sys.argv[1:]
    if "--gc-log" in args:
        args.remove("--gc-log")
        gc.callbacks.append(_report)
    if "--uvloop" in args:
        args.remove("--uvloop")
        import asyncio

        import uvloop  # installed by hand for this measurement

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    if len(args) < 2 or args[0] != "-m":
        raise SystemExit("usage: server_probe.py [--gc-log] [--uvloop] -m MODULE [ARG ...]")
    sys.argv = [args[1], *args[2:]]
    runpy.run_module(args[1], run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
